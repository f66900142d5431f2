-- JSON Merge Patch (RFC 7386) inside PostgreSQL, so a session data patch is one atomic
-- UPDATE: objects merge recursively, keys not in the patch stay, arrays and scalars replace,
-- null removes the key. A non-object patch replaces the target whole.
CREATE OR REPLACE FUNCTION jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  result jsonb;
  k text;
  v jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  IF target IS NULL OR jsonb_typeof(target) <> 'object' THEN
    result := '{}'::jsonb;
  ELSE
    result := target;
  END IF;
  FOR k, v IN SELECT key, value FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(v) = 'null' THEN
      result := result - k;
    ELSE
      result := jsonb_set(result, ARRAY[k], jsonb_merge_patch(result -> k, v));
    END IF;
  END LOOP;
  RETURN result;
END
$$;
