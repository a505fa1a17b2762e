package backup

import "errors"

var (
	// ErrLocation means a vault://MOUNT/PATH location is malformed.
	ErrLocation = errors.New("backup: bad location")
	// ErrNotKV2 means the location's mount is not a KV version 2 engine.
	ErrNotKV2 = errors.New("backup: mount is not a KV version 2 secrets engine")
	// ErrNoBackup means the location (or the version asked for) holds no
	// backup, or a deleted or destroyed one.
	ErrNoBackup = errors.New("backup: no backup at the location")
	// ErrCorrupt means a stored backup is not a valid Document: unknown
	// format, digest mismatch, invalid record.
	ErrCorrupt = errors.New("backup: corrupt backup")
	// ErrWrongNode means a backup of one node was to be restored into
	// another. Its shares would not unseal there (the AAD binds the node).
	ErrWrongNode = errors.New("backup: backup belongs to another node")
)
