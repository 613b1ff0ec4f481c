-- ADR 0011: pack blobs over ~2 kB (day, week and month packs) are moved out of line without
-- pglz compression. They are already compact (ADR 0008: varints, compression mostly lost),
-- pglz gained ~20 % on them but made rewriting them cost twice as much: 968 day/week/month
-- packs upserted in ≈ 59 ms compressed, ≈ 28 ms uncompressed (lz4: ≈ 39 ms, and not in every
-- build). Applies to values written from now on; stored ones stay readable as they are.
ALTER TABLE rollup_packs ALTER COLUMN packed SET STORAGE EXTERNAL;
