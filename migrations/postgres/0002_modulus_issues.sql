-- Every modulus ever handed out, one row per issue, kept after the modulus itself is erased: the
-- record that shows no modulus went to two Peggys (across every instance sharing the database).
-- A trigger writes it, so each draw and each on-demand issue is logged in its own statement.
-- 32 bytes of SHA-256 per issue, not n: prune old rows at will (docs/DEPLOY.md).
CREATE TABLE modulus_issues (
    seq        BIGSERIAL PRIMARY KEY,
    modulus_id BIGINT NOT NULL,
    n_sha256   BYTEA  NOT NULL,
    bits       BIGINT NOT NULL,
    instance   TEXT,
    issued_at  BIGINT NOT NULL
);
CREATE INDEX modulus_issues_n ON modulus_issues (n_sha256);

CREATE FUNCTION log_modulus_issue() RETURNS trigger AS $$
BEGIN
    IF NEW.issued_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.issued_at IS NULL) THEN
        INSERT INTO modulus_issues (modulus_id, n_sha256, bits, instance, issued_at)
        VALUES (NEW.id, sha256(convert_to(NEW.n, 'UTF8')), NEW.bits, NEW.instance, NEW.issued_at);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER blum_moduli_issued AFTER INSERT OR UPDATE OF issued_at ON blum_moduli
    FOR EACH ROW EXECUTE FUNCTION log_modulus_issue();
