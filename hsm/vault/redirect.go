package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hashicorp/vault/api"
)

// Vault answers 307 from a standby to point at the active node, and the
// vault/api client follows one redirect itself; with a replaced HTTP
// client, net/http follows up to ten. Either way the request is sent again
// to whatever the Location names, with its X-Vault-Token header (net/http
// strips only Authorization and cookies) and, for a 307, its body: the
// plaintext of an encrypt, the share of a decrypt answer's request. A
// proxy, a compromised load balancer or a hostile standby could so collect
// a node's token and shares, over plain http or at another host.
//
// A node therefore never follows a redirect: its Vault address must be the
// active node or a load balancer that forwards (Vault's standbys forward
// requests to the active node themselves). Three layers make a 3xx a hard
// error, whichever code path sees it first:
//
//   - noRedirects, the transport, turns any 3xx response into ErrRedirect
//     before net/http or vault/api can act on it;
//   - refuseRedirect, the HTTP client's CheckRedirect, refuses as well
//     (http.ErrUseLastResponse would hand the 3xx to vault/api, whose
//     Response.Error counts 200–399 as success);
//   - the api.Config sets DisableRedirects, and the retry policy does not
//     retry a refused redirect.

// noRedirects is an http.RoundTripper that fails every 3xx response.
type noRedirects struct{ next http.RoundTripper }

// RoundTrip sends req and returns an error wrapping ErrRedirect, with the
// response body closed, for any 3xx answer.
func (t noRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return resp, err
	}
	resp.Body.Close()
	return nil, redirectError(resp.StatusCode, resp.Header.Get("Location"))
}

// refuseRedirect is the HTTP client's CheckRedirect.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return redirectError(status, req.URL.String())
}

// redirectError names the status and where it pointed (without any
// user info the Location may carry).
func redirectError(status int, location string) error {
	where := "nowhere (no Location)"
	if location != "" {
		where = "an unparsable Location"
		if u, err := url.Parse(location); err == nil {
			where = u.Redacted()
		}
	}
	return fmt.Errorf("%w: answered %d pointing to %s (redirects are never followed: they would carry the token and the data elsewhere)",
		ErrRedirect, status, where)
}

// retryPolicy is vault/api's, except that a refused redirect is final.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if errors.Is(err, ErrRedirect) {
		return false, nil
	}
	return api.DefaultRetryPolicy(ctx, resp, err)
}
