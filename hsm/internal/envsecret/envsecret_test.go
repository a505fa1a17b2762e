package envsecret

import (
	"os"
	"testing"
)

func TestTake(t *testing.T) {
	const name = "COFFER_ENVSECRET_TEST"
	t.Setenv(name, "s3cret")
	if v, ok := Take(name); !ok || v != "s3cret" {
		t.Fatalf("Take = %q, %v", v, ok)
	}
	if _, set := os.LookupEnv(name); set {
		t.Fatal("the variable is still in the environment after Take")
	}
	t.Run("ok/a second Take gets the value again", func(t *testing.T) {
		if v, ok := Take(name); !ok || v != "s3cret" {
			t.Fatalf("Take = %q, %v", v, ok)
		}
	})
	t.Run("ok/a variable set again wins", func(t *testing.T) {
		t.Setenv(name, "new")
		if v, ok := Take(name); !ok || v != "new" {
			t.Fatalf("Take = %q, %v", v, ok)
		}
		if _, set := os.LookupEnv(name); set {
			t.Fatal("the variable is still in the environment after Take")
		}
	})
	t.Run("fail/never set", func(t *testing.T) {
		if v, ok := Take("COFFER_ENVSECRET_NEVER_SET"); ok {
			t.Fatalf("Take = %q, true", v)
		}
	})
}
