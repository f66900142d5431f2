-- Media events no longer carry a copy of their media: readers resolve the media as it is now,
-- so nothing of purged or archived media (titles, labels, annotation SVG) lingers in the log.
UPDATE "event" SET "payload" = NULL WHERE "type" LIKE '%MEDIA_%' AND "payload" IS NOT NULL;
