-- merge.sql — write one run back into the feature store in ONE statement (docs/output.md §8.2 step 3, §6).
-- What: for every run date at once, update the emitted columns of target rows whose key
--   (player_lookup, game_date) the run produced (created_at kept, updated_at stamped), insert
--   the run's other rows, and in replace mode delete the target rows of the run dates whose key
--   the run no longer produces. Columns the engine does not emit are never named (§6), so they
--   keep their stored values on update and get NULL/their default on insert.
-- Inputs: {{target}} the target table; {{staging}} the staging table loaded by job 1 (exactly
--   the emitted columns, no duplicate keys); query parameter @run_dates ARRAY<DATE> = the
--   distinct game dates of the run; @replace_dates ARRAY<DATE> (replace mode only) = the run
--   dates written whole: all of them with --replace, else those whose stored rows carry another
--   contract (--replace-contract), so no date ends with mixed contracts. Listing every run
--   date in ON prunes partitions, satisfies require_partition_filter and still lets each
--   staged row find its own target row.
-- Rendering (fsengine/push.py): each {{name}} is replaced by validated, backquoted identifiers
--   or column lists generated from fsengine.output.OUTPUT_COLUMNS; lines tagged `-- replace-only`
--   are kept only in replace mode; this header is not sent. No value is ever formatted in.
-- Output: DML statistics (inserted, updated, deleted rows) for the reconciliation (§8.4).
MERGE {{target}} AS T
USING {{staging}} AS S
ON T.player_lookup = S.player_lookup
  AND T.game_date = S.game_date
  AND T.game_date IN UNNEST(@run_dates)
WHEN MATCHED THEN UPDATE SET
{{update_assignments}},
  updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED BY TARGET THEN INSERT (
{{insert_columns}}
) VALUES (
{{insert_values}}
)
WHEN NOT MATCHED BY SOURCE AND T.game_date IN UNNEST(@replace_dates) THEN DELETE  -- replace-only
