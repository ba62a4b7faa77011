-- Issue 14: how many events a phone still held unsent after its last push, as it reported it
-- (`PushRequest::queued`), for the office's device list. NULL until it reports.
ALTER TABLE devices ADD COLUMN unsent BIGINT;
