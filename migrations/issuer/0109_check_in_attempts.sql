-- Check-in attempts per trainee and slot. An attempt is counted, by one conditional statement,
-- before its code is compared (a right code gives it back), so guesses in parallel or on several
-- instances share one count; after five wrong codes the trainee's check-in for that slot is
-- locked and the trainer marks them by hand.
CREATE TABLE attendance_check_in_attempts (
    slot_id TEXT NOT NULL REFERENCES attendance_slots (id) ON DELETE CASCADE,
    trainee_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    last_failed_at BIGINT NOT NULL,
    PRIMARY KEY (slot_id, trainee_id)
);
