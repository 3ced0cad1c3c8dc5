//go:build conformance

// The upstream Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance v1.6.1), run unmodified against
// Portico. Everything is the suite's own code: options from its flags (--gateway-class, --conformance-profiles,
// --supported-features, --run-test, --report-output, ...), its Setup, its tests, its report. This file only fills in
// the defaults that identify Portico (GatewayClass and Implementation) when no flag gives them. run.sh is what starts
// the cluster, the podlet and Portico, and passes the flags.
package conformance

import (
	"flag"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	opts := conformance.DefaultOptions(t)

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["gateway-class"] {
		opts.GatewayClassName = "portico"
	}
	impl := &opts.Implementation
	if impl.Organization == "" {
		impl.Organization = "portico"
	}
	if impl.Project == "" {
		impl.Project = "portico"
	}
	if impl.URL == "" {
		impl.URL = envOr("PORTICO_URL", "https://portico.dev")
	}
	if impl.Version == "" {
		impl.Version = envOr("PORTICO_VERSION", "dev")
	}
	if len(impl.Contact) == 0 {
		impl.Contact = strings.Split(envOr("PORTICO_CONTACT", "portico maintainers"), ",")
	}

	conformance.RunConformanceWithOptions(t, opts)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
