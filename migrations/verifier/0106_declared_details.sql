-- What an accepting candidate declared of themselves (signed by their key in the consent
-- receipt, shown as declared), and the issuer whose identity credential verified the rest.
ALTER TABLE disclosures ADD COLUMN declared TEXT;
ALTER TABLE disclosures ADD COLUMN verified_by TEXT;
