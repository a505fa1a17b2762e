package storecheck

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/audit"
)

// entries is enough audit entries for the leaves bucket to have branch
// pages.
const entries = 3000

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		where  string // in the one-line message, after the file
	}{
		{name: "ok/untouched", damage: func(*testing.T, string) {}},
		{name: "ok/no-checkpoint-file", damage: func(t *testing.T, path string) {
			if err := os.Remove(audit.WatermarkPath(path)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "fail/audit-leaf-byte-flipped", where: "audit entry 1234:", damage: func(t *testing.T, path string) {
			flipInFile(t, path, []byte(`"req-0001234"`))
		}},
		{name: "fail/branch-pointer-past-the-file", where: "bucket audit/leaves", damage: func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			setChildPointer(t, path, ps, root, 1, 1<<30) // far outside the mapping: SIGSEGV
		}},
		{name: "fail/branch-pointer-in-mapping-past-the-end", where: "bucket audit/leaves", damage: func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			fi, _ := os.Stat(path)
			setChildPointer(t, path, ps, root, 0, uint64(fi.Size())/uint64(ps)+3) // mapped, past EOF: SIGBUS
		}},
		{name: "fail/branch-pointer-to-another-page", where: "bbolt consistency check: ", damage: func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			setChildPointer(t, path, ps, root, 1, 3)
		}},
		{name: "fail/leaf-element-position-out-of-the-file", where: "bucket audit/leaves", damage: func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// down the first children to a leaf page (page flags 0x02);
			// its first element's pos (leaf element: flags, pos, ksize,
			// vsize) then points far past the map
			leaf := root
			for binary.LittleEndian.Uint16(b[int(leaf)*ps+8:]) == 0x01 { // branch: pos, ksize, pgid
				leaf = binary.LittleEndian.Uint64(b[int(leaf)*ps+pageHeader+8:])
			}
			off := int64(leaf)*int64(ps) + pageHeader + 4
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(binary.LittleEndian.AppendUint32(nil, 0x7fff0000), off); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "fail/file-cut-inside-live-pages", damage: func(t *testing.T, path string) { cutFile(t, path, 0.6) }},
		{name: "fail/newest-meta-damaged", where: "audit log: its latest signed checkpoint is size 2999", damage: func(t *testing.T, path string) {
			damageNewestMeta(t, path)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := buildStore(t, entries)
			tt.damage(t, path)
			rep, err := Check(context.Background(), path, Options{}, discard)
			if !strings.HasPrefix(tt.name, "fail/") {
				if err != nil || !rep.AuditChecked || rep.AuditEntries != entries {
					t.Fatalf("Check = %+v, %v", rep, err)
				}
				return
			}
			var d *Damage
			if !errors.As(err, &d) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("Check: %v (%T), want a *Damage", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, path+": "+tt.where) || !strings.HasSuffix(msg, RestoreHint) || strings.Contains(msg, "\n") {
				t.Fatalf("message %q: want one line naming %s: %s…, ending in the restore hint", msg, path, tt.where)
			}
		})
	}
}

func TestCheckMissingFileIsNew(t *testing.T) {
	rep, err := Check(context.Background(), filepath.Join(t.TempDir(), "node.db"), Options{}, discard)
	if err != nil || !rep.NewFile {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
}

func TestCheckRefusesARunningNodesStore(t *testing.T) {
	path := buildStore(t, 10)
	st, l, err := openNode(t, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer l.Close()
	_, err = Check(context.Background(), path, Options{LockTimeout: 50e6}, discard)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Check: %v, want ErrLocked", err)
	}
}

// TestFaultIsNotACrash runs the check of a store whose pages fault in a
// child process (this test binary again) and checks that it exits with an
// error line naming the file, not a runtime dump.
func TestFaultIsNotACrash(t *testing.T) {
	if p := os.Getenv(childEnv); p != "" {
		_, err := Check(context.Background(), p, Options{}, discard)
		if err != nil {
			os.Stderr.WriteString("check: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	for name, damage := range map[string]func(*testing.T, string){
		"sigsegv": func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			setChildPointer(t, path, ps, root, 1, 1<<30)
		},
		"sigbus": func(t *testing.T, path string) {
			ps, root := rootPage(t, path, "audit/leaves")
			fi, _ := os.Stat(path)
			setChildPointer(t, path, ps, root, 0, uint64(fi.Size())/uint64(ps)+3)
		},
		"cut": func(t *testing.T, path string) { cutFile(t, path, 0.6) },
	} {
		t.Run(name, func(t *testing.T) {
			path := buildStore(t, entries)
			damage(t, path)
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultIsNotACrash$")
			cmd.Env = append(os.Environ(), childEnv+"="+path)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("child: %v, want exit status 1; stderr:\n%s", err, stderr.String())
			}
			out := strings.TrimSpace(stderr.String())
			if strings.Contains(out, "\n") || !strings.HasPrefix(out, "check: "+path+": ") || strings.Contains(out, "goroutine") {
				t.Fatalf("child stderr: want one line naming %s, got:\n%s", path, out)
			}
			t.Log(out)
		})
	}
}

const childEnv = "COFFER_STORECHECK_CHILD"

// TestDamagedNewestMetaRefusedByTheLog: bbolt opens the previous
// transaction (the last audit batch gone); the audit log, with the
// checkpoint file, refuses to append to it.
func TestDamagedNewestMetaRefusedByTheLog(t *testing.T) {
	path := buildStore(t, 20)
	damageNewestMeta(t, path)
	st, l, err := openNode(t, path)
	if err == nil {
		l.Close()
		st.Close()
	}
	if !errors.Is(err, audit.ErrRollback) || !strings.Contains(err.Error(), "size 19") || !strings.Contains(err.Error(), "records size 20") {
		t.Fatalf("open after the newest meta page was damaged: %v, want ErrRollback naming sizes 19 and 20", err)
	}
}
