//! Gmail faults, through `/email` from a user who connected Gmail in the chat (the flow of
//! `email.rs`): 401 for an access token Google let expire (refreshed, then retried), 403, 5xx
//! (once: retried; twice: the user is told) and an empty inbox.

use super::{answers_the_next_message, cell, final_status, run_cells, settled_texts};
use crate::email::{Mail, connect_sam, start_with, text_mail};
use crate::support::app::{STRANGER, WAIT};
use crate::support::fake_google::FakeGoogle;
use crate::support::fake_llm::Reply;
use crate::support::logs::Logs;

/// The model's summary of the one mail.
const SUMMARY: &str = "One invoice from the bank.";
/// What Sam sees when the mail is summarised.
const SUMMARISED: &str = "📬 1 email(s)\n\nOne invoice from the bank.";

/// Sam connected, one new mail waiting, `fault` applied to Google; then `/email`.
async fn email_with(fault: impl FnOnce(&FakeGoogle)) -> (Mail, i64) {
    let m = start_with(&[]).await;
    connect_sam(&m).await;
    m.google
        .add_message("m1", text_mail("Invoice", "Your invoice is ready."));
    m.claude.always(Reply::text(SUMMARY));
    fault(&m.google);
    let first = m.app.fake.push_text(STRANGER, "/email");
    (m, first)
}

/// Sam's messages after the two of the connect flow.
async fn replies(m: &Mail) -> Vec<String> {
    settled_texts(&m.app.fake, STRANGER).await[2..].to_vec()
}

/// Asserts the one reply, the log line, that the next message is answered, and stops the app.
async fn ends_with(m: Mail, first: i64, reply: &str, log: &[&str], logs: &Logs) {
    assert_eq!(final_status(&m.app, first, WAIT).await, "done");
    assert_eq!(replies(&m).await, [reply]);
    logs.one_line_with(log);
    answers_the_next_message(&m.app, STRANGER).await;
    m.app.fake.assert_no_violations();
    m.app.stop().await;
}

#[test]
fn gmail_faults_refresh_retry_or_tell_the_user_once() {
    run_cells(vec![
        cell("Gmail × 401 expired", |logs| async move {
            let (m, first) = email_with(FakeGoogle::expire_access_tokens).await;
            let log = ["INFO", "rejected the access token", "refreshing"];
            let grants_before = m.google.state().grants.len();
            ends_with_summary(&m, first, &log, &logs).await;
            let grants = m.google.state().grants[grants_before..].to_vec();
            assert_eq!(grants, ["refresh_token"], "one refresh");
            m.app.stop().await;
        }),
        cell("Gmail × 403", |logs| async move {
            let (m, first) = email_with(|g| g.fail_next_gmail(403)).await;
            let log = [
                "WARN",
                "status=403",
                "PERMISSION_DENIED",
                "enable the Gmail API",
            ];
            ends_with(m, first, "Gmail answered HTTP 403", &log, &logs).await;
        }),
        cell("Gmail × 5xx once", |logs| async move {
            let (m, first) = email_with(|g| g.fail_next_gmail(500)).await;
            let log = ["WARN", "Gmail server error", "trying once more"];
            ends_with_summary(&m, first, &log, &logs).await;
            m.app.stop().await;
        }),
        cell("Gmail × 5xx twice", |logs| async move {
            let (m, first) = email_with(|g| {
                g.fail_next_gmail(503);
                g.fail_next_gmail(503);
            })
            .await;
            let log = ["WARN", "status=503", "failing at Google's end"];
            ends_with(m, first, "Gmail answered HTTP 503", &log, &logs).await;
        }),
        cell("Gmail × empty list", |logs| async move {
            let m = start_with(&[]).await;
            connect_sam(&m).await;
            let first = m.app.fake.push_text(STRANGER, "/email");
            assert_eq!(final_status(&m.app, first, WAIT).await, "done");
            assert_eq!(
                replies(&m).await,
                [
                    "Nothing new in your Gmail today. Try /email 3d, or add force to see mail I \
                  already summarised."
                ]
            );
            assert!(m.claude.requests().is_empty(), "no model call");
            assert_eq!(logs.problems(), Vec::<String>::new(), "nothing to log");
            answers_the_next_message(&m.app, STRANGER).await;
            m.app.stop().await;
        }),
    ]);
}

/// The mail is summarised once and marked processed; the log line is there; the next message is
/// answered. Leaves the app running.
async fn ends_with_summary(m: &Mail, first: i64, log: &[&str], logs: &Logs) {
    assert_eq!(final_status(&m.app, first, WAIT).await, "done");
    assert_eq!(replies(m).await, [SUMMARISED]);
    assert_eq!(m.claude.requests().len(), 1, "one summary");
    m.app
        .wait_for_db("SELECT COUNT(*) FROM processed_emails", "1")
        .await;
    logs.one_line_with(log);
    answers_the_next_message(&m.app, STRANGER).await;
    m.app.fake.assert_no_violations();
}
