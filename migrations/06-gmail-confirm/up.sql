-- Gmail web callback confirmation: Google's redirect (GET) no longer connects the mailbox. It shows
-- a page naming the Telegram account the consent was issued to, and only its Confirm button (a
-- POST carrying a one-time token) exchanges the code. Between the two, the pending row holds:

-- the authorization code, sealed with the token key (nonce || ciphertext, bound to state_hash);
-- NULL until the redirect arrived
ALTER TABLE gmail_pending_auth ADD COLUMN sealed_code BLOB;
-- SHA-256 (hex) of the one-time confirm token put in the page's form; the token itself is never
-- stored. NULL until the redirect arrived; replaced when the page is loaded again
ALTER TABLE gmail_pending_auth ADD COLUMN confirm_hash TEXT;
CREATE UNIQUE INDEX gmail_pending_auth_confirm ON gmail_pending_auth(confirm_hash)
    WHERE confirm_hash IS NOT NULL;
