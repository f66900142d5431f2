-- JSON Merge Patch (RFC 7386) in one pass per object level: the merged object is built at once
-- with jsonb_object_agg over the target's keys the patch does not name plus the patch's
-- non-null keys, recursing only into patch values that are objects. The previous version
-- copied the whole document once per patch key (a jsonb_set loop), quadratic in practice:
-- a 50,000-key patch took over a minute. Same semantics: objects merge recursively, keys not
-- in the patch stay, arrays and scalars replace, null removes the key, a non-object patch
-- replaces the target whole, and an object patch over a non-object starts from {}.
CREATE OR REPLACE FUNCTION jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  base jsonb;
  result jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  IF target IS NULL OR jsonb_typeof(target) <> 'object' THEN
    base := '{}'::jsonb;
  ELSE
    base := target;
  END IF;
  SELECT jsonb_object_agg(merged.key, merged.value) INTO result
  FROM (
    SELECT t.key, t.value FROM jsonb_each(base) AS t WHERE NOT patch ? t.key
    UNION ALL
    SELECT p.key,
           CASE WHEN jsonb_typeof(p.value) = 'object' THEN jsonb_merge_patch(base -> p.key, p.value) ELSE p.value END
    FROM jsonb_each(patch) AS p
    WHERE jsonb_typeof(p.value) <> 'null'
  ) AS merged;
  RETURN coalesce(result, '{}'::jsonb);
END
$$;
