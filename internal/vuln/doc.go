// Package vuln knows which published vulnerabilities affect the packages a
// lock pins, the way Debian itself judges them: by source package and source
// version, per release, with Debian's own urgency and no-dsa decisions.
//
// It reads three public data sets: the Debian security tracker's JSON
// export (the authority for matching), CISA's Known Exploited
// Vulnerabilities catalog and, optionally, FIRST's EPSS scores. The tracker
// is reduced to a compact Index that is cached beside the JSON, keyed by the
// JSON's SHA-256, so a warm load never parses JSON again.
//
// Scan matches one lock against a DB and returns findings (and the fixed /
// not-affected verdicts OpenVEX needs). It does not decide what blocks a
// build: that is package vuln/policy; nor does it write OpenVEX: that is
// package vuln/openvex. Fetching the data sets is Update, in this package.
package vuln
