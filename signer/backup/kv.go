package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cofferhq/coffer/hsm/vault"
)

// KV is one backup location on a Vault server's KV v2 engine.
type KV struct {
	c   *vault.Client
	loc Location
}

// NewKV binds a logged-in Vault client to a location.
func NewKV(c *vault.Client, loc Location) (*KV, error) {
	if c == nil {
		return nil, errors.New("new backup location: missing vault client")
	}
	if loc.Mount == "" || loc.Path == "" {
		return nil, fmt.Errorf("new backup location: %w: empty mount or path", ErrLocation)
	}
	return &KV{c: c, loc: loc}, nil
}

// Location is where kv reads and writes.
func (kv *KV) Location() Location { return kv.loc }

// checkMount makes sure the mount is a KV version 2 engine: writing
// MOUNT/data/PATH to a version 1 engine would store the backup under a
// literal "data/" path, without versions.
func (kv *KV) checkMount(ctx context.Context) error {
	data, err := kv.c.Read(ctx, "sys/internal/ui/mounts/"+kv.loc.Mount, kv.loc.Mount)
	if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrPermissionDenied) || (err == nil && data == nil) {
		return fmt.Errorf("%w: %q at %s (or the token may not use it)", vault.ErrMountNotFound, kv.loc.Mount, kv.c.Address())
	}
	if err != nil {
		return err
	}
	typ, _ := data["type"].(string)
	opts, _ := data["options"].(map[string]any)
	version, _ := opts["version"].(string)
	if typ != "kv" || version != "2" {
		return fmt.Errorf("%w: %q at %s is %q version %q", ErrNotKV2, kv.loc.Mount, kv.c.Address(), typ, version)
	}
	return nil
}

// Put writes doc as a new version of the secret and returns its number.
func (kv *KV) Put(ctx context.Context, doc *Document) (int, error) {
	if err := kv.checkMount(ctx); err != nil {
		return 0, fmt.Errorf("write backup to %s: %w", kv.loc, err)
	}
	data, err := toMap(doc)
	if err != nil {
		return 0, fmt.Errorf("write backup to %s: %w", kv.loc, err)
	}
	resp, err := kv.c.Write(ctx, kv.loc.dataPath(), kv.loc.Mount, `"create", "update"`, map[string]any{"data": data})
	if err != nil {
		return 0, fmt.Errorf("write backup to %s: %w", kv.loc, err)
	}
	v, err := number(resp["version"])
	if err != nil {
		return 0, fmt.Errorf("write backup to %s: Vault answered no version: %w", kv.loc, err)
	}
	return v, nil
}

// Get reads one version of the backup (0: the latest) and returns it with
// its version number. It does not validate the document.
func (kv *KV) Get(ctx context.Context, version int) (*Document, int, error) {
	if err := kv.checkMount(ctx); err != nil {
		return nil, 0, fmt.Errorf("read backup from %s: %w", kv.loc, err)
	}
	var query map[string][]string
	if version > 0 {
		query = map[string][]string{"version": {strconv.Itoa(version)}}
	}
	resp, err := kv.c.ReadQuery(ctx, kv.loc.dataPath(), kv.loc.Mount, query)
	if errors.Is(err, vault.ErrNotFound) || (err == nil && resp == nil) {
		return nil, 0, fmt.Errorf("read backup from %s (version %s): %w", kv.loc, versionName(version), ErrNoBackup)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read backup from %s: %w", kv.loc, err)
	}
	var out struct {
		Data     json.RawMessage `json:"data"`
		Metadata struct {
			Version     int    `json:"version"`
			DeletedTime string `json:"deleted_time"`
			Destroyed   bool   `json:"destroyed"`
		} `json:"metadata"`
	}
	b, err := json.Marshal(resp)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read backup from %s: %w: %v", kv.loc, ErrCorrupt, err)
	}
	if out.Metadata.Destroyed || out.Metadata.DeletedTime != "" || len(out.Data) == 0 || string(out.Data) == "null" {
		return nil, 0, fmt.Errorf("read backup from %s (version %s): %w (deleted or destroyed)", kv.loc, versionName(version), ErrNoBackup)
	}
	dec := json.NewDecoder(bytes.NewReader(out.Data))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return nil, 0, fmt.Errorf("read backup from %s version %d: %w: %v", kv.loc, out.Metadata.Version, ErrCorrupt, err)
	}
	return &doc, out.Metadata.Version, nil
}

func versionName(v int) string {
	if v == 0 {
		return "latest"
	}
	return strconv.Itoa(v)
}

// toMap turns doc into the generic map the KV API takes, keeping numbers
// exact.
func toMap(doc *Document) (map[string]any, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode backup: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("encode backup: %w", err)
	}
	return m, nil
}

func number(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
