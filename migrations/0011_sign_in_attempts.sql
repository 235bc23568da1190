-- Sign-in attempts counted before the password is checked (reserve, hash, settle): one row per
-- account and one per client address, each with the window it counts in. A single conditional
-- upsert takes an attempt and refuses past the limit, so concurrent attempts on any host cannot
-- all pass (the per-failure rows of sign_in_failures were counted first and written after the
-- hash, which a burst raced).
CREATE TABLE sign_in_attempts (
    scope             TEXT    NOT NULL CHECK (scope IN ('account', 'address')),
    subject           TEXT    NOT NULL,
    window_started_at BIGINT  NOT NULL,
    attempts          INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX sign_in_attempts_window_idx ON sign_in_attempts(window_started_at);
DROP TABLE sign_in_failures;
