package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// auditPath lists the server's audit devices. Vault requires "sudo" as
// well as "read" on it; NodePolicy grants both (a listing only: enabling
// or disabling a device is at sys/audit/NAME).
const auditPath = "sys/audit"

// checkAudit refuses a server with an audit device that logs request and
// response bodies unhashed (log_raw): every plaintext share a node seals
// or opens, and its token, would be in that log. A token that may not list
// the devices gets a warning instead, naming the grant that would let the
// node check. The check runs at start: an operator who adds such a device
// later is one of the Vault's admins, whom SECURITY.md counts inside its
// trust domain anyway.
func (k *Keystore) checkAudit(ctx context.Context) error {
	s, err := k.c.do(ctx, request{method: http.MethodGet, path: auditPath, capability: `"read", "sudo"`, mount: "sys"})
	var pe *PermissionError
	if errors.As(err, &pe) {
		k.log.Warn("cannot check Vault's audit devices for log_raw, which would log every share in plaintext: "+
			"the token may not list them; grant it path \"sys/audit\" { capabilities = [\"read\", \"sudo\"] } "+
			"(NodePolicy does), or have Vault's operators make sure no device sets log_raw",
			"vault", k.cfg.Address)
		return nil
	}
	if err != nil {
		return fmt.Errorf("list audit devices: %w", err)
	}
	var data map[string]any
	if s != nil {
		data = s.Data
	}
	raw, err := rawAuditDevices(data)
	if err != nil {
		return fmt.Errorf("list audit devices on %s: %w", k.cfg.Address, err)
	}
	if len(raw) > 0 {
		return fmt.Errorf("%w: %v on %s set log_raw: every share this node seals or opens would be logged in plaintext; disable log_raw",
			ErrAuditLogRaw, raw, k.cfg.Address)
	}
	k.log.Info("vault audit devices checked: none logs raw bodies", "devices", len(data))
	return nil
}

// rawAuditDevices returns, sorted, the paths of the devices in a sys/audit
// listing whose log_raw option is true. An option that is not a boolean
// counts as true: the check fails closed.
func rawAuditDevices(data map[string]any) ([]string, error) {
	var raw []string
	for path, v := range data {
		dev, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("device %q: unexpected answer %T", path, v)
		}
		opts, _ := dev["options"].(map[string]any)
		val, set := opts["log_raw"]
		if !set {
			continue
		}
		str, _ := val.(string)
		if on, err := strconv.ParseBool(str); err != nil || on {
			raw = append(raw, path)
		}
	}
	sort.Strings(raw)
	return raw, nil
}
