-- A proposed layout for one drop (issue 16, part 3), built beside the real tables of a
-- database that bench/partition_size.py has loaded (run with --proposed): the drop row
-- carries its own points (the earn or strike amount the rules gave it) and its scored
-- facts (the account), so the ledger keeps only bonuses, penalties and the non-drop
-- entries and points_scored_drop is not needed; client ids as uuid; category, quality
-- and source as small codes; columns ordered by alignment. The indexes exist before the
-- rows are written, in the order a city writes them, as the real tables' do. The script
-- runs VACUUM ANALYZE on both afterwards (it cannot run inside this batch). It reads
-- drop_record as migrated by e6d85d974320 (client_uuid / client_text, SMALLINT codes:
-- quality 1 = correct).
DROP TABLE IF EXISTS proposed_drop, proposed_ledger CASCADE;
CREATE TABLE proposed_drop (
  id bigint NOT NULL, happened_at timestamptz NOT NULL, received_at timestamptz NOT NULL,
  client_uuid uuid, community_id int NOT NULL, station_id int NOT NULL, household_id int,
  account_id int, card_id int, device_id int, recorded_by int, local_date date NOT NULL,
  points smallint NOT NULL DEFAULT 0, category smallint NOT NULL, quality "char" NOT NULL,
  source "char" NOT NULL, in_window bool NOT NULL,
  client_text varchar(64),  -- only for devices whose ids are not UUIDs
  weight_kg numeric(6,3), note varchar(200), photo varchar(200), reason_code varchar(32),
  repeat_of bigint, voided_at timestamptz, voided_by int
) PARTITION BY RANGE (local_date);
CREATE TABLE proposed_ledger (LIKE ledger_entry INCLUDING DEFAULTS)
  PARTITION BY RANGE (local_date);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS b
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'drop_record'::regclass LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF proposed_drop %s', 'p_' || r.relname, r.b);
    EXECUTE format('CREATE TABLE %I PARTITION OF proposed_ledger %s', 'pl_' || r.relname, r.b);
  END LOOP; END $$;
ALTER TABLE proposed_drop ADD PRIMARY KEY (id, local_date);
CREATE UNIQUE INDEX proposed_drop_client ON proposed_drop (community_id, client_uuid, local_date);
CREATE INDEX proposed_drop_household ON proposed_drop (household_id, happened_at);
CREATE INDEX proposed_drop_station ON proposed_drop (station_id, happened_at);
CREATE INDEX proposed_drop_community_day ON proposed_drop (community_id, local_date);
CREATE INDEX proposed_drop_strikes ON proposed_drop (account_id, local_date, happened_at, id)
  WHERE quality = 'i';
ALTER TABLE proposed_ledger ADD PRIMARY KEY (id, local_date);
CREATE INDEX proposed_ledger_account_day ON proposed_ledger (account_id, local_date);
CREATE UNIQUE INDEX proposed_ledger_source ON proposed_ledger (community_id, source, kind, local_date);
CREATE UNIQUE INDEX proposed_ledger_reverses ON proposed_ledger (reverses_id, local_date);
INSERT INTO proposed_drop
SELECT d.id, d.happened_at, d.received_at, d.client_uuid, d.community_id, d.station_id,
       d.household_id, s.account_id, d.card_id, d.device_id, d.recorded_by, d.local_date,
       coalesce((SELECT sum(e.amount) FROM ledger_entry e
                 WHERE e.community_id = d.community_id AND e.source = 'drop:' || d.id
                   AND e.kind IN ('earn', 'strike')), 0),
       d.category, CASE d.quality WHEN 1 THEN 'c' ELSE 'i' END, 'd', d.in_window,
       d.client_text, d.weight_kg, d.note, d.photo, d.reason_code, d.repeat_of, d.voided_at, d.voided_by
FROM drop_record d
LEFT JOIN points_scored_drop s ON s.community_id = d.community_id AND s.drop_id = d.id
ORDER BY d.id;
INSERT INTO proposed_ledger SELECT * FROM ledger_entry WHERE kind NOT IN ('earn', 'strike')
ORDER BY id;
