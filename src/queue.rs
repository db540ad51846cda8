//! Per-chat queues: messages of one chat are handled in arrival order, different chats in
//! parallel up to a bound, so a slow LLM answer never blocks other users. A chat's worker exits
//! when idle, so memory follows the number of busy chats, not of all chats ever seen. A job that
//! panics ends only itself: the chat's later jobs still run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ids::ChatId;

/// How long a chat's worker waits for more work before exiting.
const IDLE_EXIT: Duration = Duration::from_secs(30);

type Handler<J> = Arc<dyn Fn(J) -> BoxFuture<'static, ()> + Send + Sync>;

/// Ordered-per-chat, concurrent-across-chats job queues. Cheap to clone.
pub struct ChatQueues<J> {
    inner: Arc<Inner<J>>,
}

impl<J> Clone for ChatQueues<J> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<J> {
    lanes: Mutex<HashMap<Option<ChatId>, mpsc::UnboundedSender<J>>>,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
    stop: CancellationToken,
    handler: Handler<J>,
}

impl<J: Send + 'static> ChatQueues<J> {
    /// Queues that run `handler` on each job, at most `max_parallel` chats at a time.
    pub fn new(
        max_parallel: usize,
        handler: impl Fn(J) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                lanes: Mutex::new(HashMap::new()),
                permits: Arc::new(Semaphore::new(max_parallel.max(1))),
                tracker: TaskTracker::new(),
                stop: CancellationToken::new(),
                handler: Arc::new(handler),
            }),
        }
    }

    /// Adds a job to its chat's queue; jobs that name no chat (`None`) share one lane of their
    /// own. Returns `false` after shutdown began (the job is not run;
    /// inbox jobs stay pending and are picked up at the next start).
    pub fn submit(&self, chat_id: Option<ChatId>, job: J) -> bool {
        if self.inner.stop.is_cancelled() {
            return false;
        }
        let mut lanes = self.inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = lanes.get(&chat_id) {
            match tx.send(job) {
                Ok(()) => return true,
                // The worker is gone (it exited between jobs); start a new one below.
                Err(mpsc::error::SendError(returned)) => {
                    return self.start_lane(&mut lanes, chat_id, returned);
                }
            }
        }
        self.start_lane(&mut lanes, chat_id, job)
    }

    fn start_lane(
        &self,
        lanes: &mut HashMap<Option<ChatId>, mpsc::UnboundedSender<J>>,
        chat_id: Option<ChatId>,
        job: J,
    ) -> bool {
        let (tx, rx) = mpsc::unbounded_channel();
        // The receiver is alive, so this send cannot fail.
        let _ = tx.send(job);
        lanes.insert(chat_id, tx);
        self.inner
            .tracker
            .spawn(run_lane(Arc::clone(&self.inner), chat_id, rx));
        true
    }

    /// The bound on chats handled at once, for other work that must share it (scheduled jobs).
    pub fn permits(&self) -> Arc<Semaphore> {
        Arc::clone(&self.inner.permits)
    }

    /// Stops taking jobs, lets running jobs finish, and waits up to `grace`. Returns whether
    /// everything finished in time. Queued jobs that did not start are dropped.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.stop.cancel();
        self.inner
            .lanes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.inner.tracker.close();
        tokio::time::timeout(grace, self.inner.tracker.wait())
            .await
            .is_ok()
    }
}

async fn run_lane<J: Send + 'static>(
    inner: Arc<Inner<J>>,
    chat_id: Option<ChatId>,
    mut rx: mpsc::UnboundedReceiver<J>,
) {
    loop {
        let job = tokio::select! {
            () = inner.stop.cancelled() => return,
            next = tokio::time::timeout(IDLE_EXIT, rx.recv()) => match next {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(_idle) => {
                    let mut lanes = inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
                    // Submitters send while holding this lock, so an empty queue stays empty.
                    if rx.is_empty() {
                        lanes.remove(&chat_id);
                        return;
                    }
                    continue;
                }
            },
        };
        let Ok(_permit) = inner.permits.acquire().await else {
            return;
        };
        // The handler catches its own panics (and answers the chat); this is the last net, so
        // the rest of the chat's queue is not lost with the worker.
        let handled = std::panic::AssertUnwindSafe((inner.handler)(job))
            .catch_unwind()
            .await;
        if handled.is_err() {
            tracing::error!(?chat_id, "a job panicked; the chat's next jobs still run");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use tokio::sync::Notify;

    impl<J: Send + 'static> ChatQueues<J> {
        /// Number of chats with a live worker.
        fn active_chats(&self) -> usize {
            self.inner.lanes.lock().map(|l| l.len()).unwrap_or(0)
        }
    }

    #[tokio::test]
    async fn one_chat_runs_in_order_while_another_chat_is_not_blocked() {
        let log = Arc::new(StdMutex::new(Vec::new()));
        let gate = Arc::new(Notify::new());
        let (l, g) = (log.clone(), gate.clone());
        let queues = ChatQueues::new(4, move |(chat, n): (i64, u32)| {
            let (l, g) = (l.clone(), g.clone());
            Box::pin(async move {
                if chat == 1 && n == 0 {
                    g.notified().await; // chat 1's first job is slow
                }
                l.lock().unwrap().push((chat, n));
            }) as BoxFuture<'static, ()>
        });
        for n in 0..3 {
            queues.submit(Some(ChatId(1)), (1, n));
        }
        queues.submit(Some(ChatId(2)), (2, 0));
        // Chat 2 finishes while chat 1 is still stuck on its first job.
        wait_until(|| log.lock().unwrap().contains(&(2, 0))).await;
        assert!(!log.lock().unwrap().iter().any(|(c, _)| *c == 1));
        gate.notify_one();
        wait_until(|| log.lock().unwrap().len() == 4).await;
        let chat1: Vec<u32> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == 1)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(chat1, [0, 1, 2]);
        assert!(queues.shutdown(Duration::from_secs(5)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_workers_exit_and_submit_after_shutdown_is_refused() {
        let queues = ChatQueues::new(2, |_: ()| Box::pin(async {}) as BoxFuture<'static, ()>);
        for chat in 0..50 {
            queues.submit(Some(ChatId(chat)), ());
        }
        tokio::time::sleep(IDLE_EXIT * 2).await;
        assert_eq!(queues.active_chats(), 0);
        assert!(queues.submit(Some(ChatId(7)), ()));
        assert!(queues.shutdown(Duration::from_secs(1)).await);
        assert!(!queues.submit(Some(ChatId(7)), ()));
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_jobs_after_it_in_the_same_chat() {
        let log = Arc::new(StdMutex::new(Vec::new()));
        let l = log.clone();
        let queues = ChatQueues::new(2, move |n: u32| {
            let l = l.clone();
            Box::pin(async move {
                assert_ne!(n, 1, "job 1 panics on purpose");
                l.lock().unwrap().push(n);
            }) as BoxFuture<'static, ()>
        });
        for n in 0..3 {
            queues.submit(Some(ChatId(9)), n);
        }
        wait_until(|| log.lock().unwrap().len() == 2).await;
        assert_eq!(*log.lock().unwrap(), [0, 2]);
        assert_eq!(queues.active_chats(), 1, "the same worker goes on");
        assert!(queues.shutdown(Duration::from_secs(5)).await);
    }

    async fn wait_until(cond: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !cond() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("condition within 5 s");
    }
}
