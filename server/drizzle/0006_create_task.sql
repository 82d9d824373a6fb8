-- One create as one statement: the owner's lock, the idempotency replay, the quota check and the insert run inside
-- the database, so the lock is held for the server-side work and the commit only, not across the round trips that
-- followed it through a busy event loop (the replay check with a key, the quota check, the insert, COMMIT). One account's creates still run
-- one at a time in every server process (the owner's row lock), and the quota stays exact: in READ COMMITTED every
-- statement of a VOLATILE function takes a fresh snapshot, so the checks after the lock see every create committed
-- before it was granted. Called as `SELECT … FROM ironclad_create_task(…)` in autocommit: the call is the transaction.
-- outcome: 'created' (the new row), 'replayed' (the row an earlier create with this key made), 'full' (no row), or
-- 'gone' (no row: the account was deleted after the request was authenticated, e.g. while this call waited for its lock).
CREATE FUNCTION ironclad_create_task(
  p_user_id bigint,
  p_title varchar,
  p_description text,
  p_completed boolean,
  p_due_on date,
  p_idempotency_key varchar,
  p_quota integer
)
RETURNS TABLE (
  outcome text,
  id bigint,
  title varchar,
  description text,
  completed boolean,
  due_on date,
  created_at timestamptz,
  updated_at timestamptz
)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
  PERFORM 1 FROM users WHERE users.id = p_user_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'gone'::text, NULL::bigint, NULL::varchar, NULL::text, NULL::boolean, NULL::date,
      NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    RETURN QUERY
      SELECT 'replayed'::text, t.id, t.title, t.description, t.completed, t.due_on, t.created_at, t.updated_at
      FROM tasks t WHERE t.user_id = p_user_id AND t.idempotency_key = p_idempotency_key;
    IF FOUND THEN RETURN; END IF;
  END IF;
  -- Is there a quota-th task? Reads at most `quota` index entries, and stops there.
  IF EXISTS (SELECT 1 FROM tasks t WHERE t.user_id = p_user_id ORDER BY t.id OFFSET p_quota - 1 LIMIT 1) THEN
    RETURN QUERY SELECT 'full'::text, NULL::bigint, NULL::varchar, NULL::text, NULL::boolean, NULL::date,
      NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  RETURN QUERY
    INSERT INTO tasks AS t (user_id, title, description, completed, due_on, idempotency_key)
    VALUES (p_user_id, p_title, p_description, p_completed, p_due_on, p_idempotency_key)
    RETURNING 'created'::text, t.id, t.title, t.description, t.completed, t.due_on, t.created_at, t.updated_at;
END
$$;
