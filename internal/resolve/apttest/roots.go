package apttest

// Roots holds, per release, root package sets to compare temper's resolver
// with apt on: each entry is installed together in one apt-get call. Every
// entry was checked with Env.Install against the real archive (amd64).
var Roots = map[string][][]string{
	"bookworm": {
		// runtimes
		{"python3"}, // 41 packages on bookworm, 35 on trixie; Essential dpkg, tar, ... via python3-minimal
		{"python3", "python3-pip", "python3-venv"},
		{"php8.2-cli"},
		{"php8.2-fpm"}, // php8.2-fpm: "systemd | systemd-tmpfiles" → systemd (first alternative)
		{"php-fpm"},
		{"nodejs"},
		{"ruby"},
		{"openjdk-17-jre-headless"},
		{"default-jre-headless"},
		{"perl"},
		// servers
		{"postgresql-15"},
		{"mariadb-server"},
		{"redis-server"},
		{"nginx-light"}, // bookworm only: trixie has no nginx-light
		{"nginx"},
		{"memcached"},
		{"apache2"},
		{"openssh-server"},
		// libraries
		{"libssl3"}, // 4 packages
		{"libpq5"},
		{"libxml2"},
		{"libcurl4"},
		{"libsqlite3-0"},
		{"zlib1g"},
		// tools
		{"curl"},
		{"git"},
		{"ca-certificates"},
		{"tzdata"}, // "debconf (>= 0.5) | debconf-2.0" → debconf: 2 packages
		{"openssl"},
		{"busybox"},
		{"gnupg"}, // gpg-agent: "pinentry-curses | pinentry" → pinentry-curses
		{"rsync"},
		{"jq"},
		{"imagemagick"},
		{"sudo", "cron", "logrotate"}, // logrotate: "cron | anacron | cron-daemon ..." met by the root cron
		{"procps", "iproute2", "netcat-openbsd", "less", "vim-tiny"},
		{"unzip", "zip", "xz-utils", "wget"},
		// alternatives and virtual packages
		{"bsd-mailx"},                 // "default-mta | mail-transport-agent": default-mta has one provider, exim4-daemon-light; exim4-base: "cron | cron-daemon | ..." → cron
		{"bsd-mailx", "postfix"},      // the MTA group is met by the root postfix (either order): no exim4
		{"postfix-pcre", "bsd-mailx"}, // postfix, marked as a dependency of the earlier root, meets the MTA group
		{"base-files"},                // Pre-Depends awk (virtual: gawk, mawk, original-awk) → mawk (Priority required)
		{"python3-cryptography"},      // versioned Provides: python3-cffi-backend-api-min (<= 9729) / -api-max (>= 9729) → python3-cffi-backend
		{"php8.2"},                    // "libapache2-mod-php8.2 | php8.2-fpm | php8.2-cgi" → libapache2-mod-php8.2
		{"php8.2", "php8.2-fpm"},      // same group met by the root php8.2-fpm
		{"libapache2-mod-php8.2"},
		{"sa-exim"}, // exim4-localscanapi-6.0 (virtual: exim4-daemon-heavy, -light) → exim4-daemon-light
		{"tua"},     // mailx (virtual: bsd-mailx, mailutils) → bsd-mailx, then bsd-mailx pulls exim4
		{"libgcc1"}, // a virtual root with one provider: apt installs libgcc-s1 (3 packages)
		{"mailutils"},
	},
	"trixie": {
		// runtimes
		{"python3"}, // 41 packages on bookworm, 35 on trixie; Essential dpkg, tar, ... via python3-minimal
		{"python3", "python3-pip", "python3-venv"},
		{"php8.4-cli"},
		{"php8.4-fpm"},
		{"php-fpm"},
		{"nodejs"},
		{"ruby"},
		{"openjdk-21-jre-headless"},
		{"default-jre-headless"},
		{"perl"},
		// servers
		{"postgresql-17"},
		{"mariadb-server"},
		{"redis-server"},
		{"nginx"},
		{"memcached"},
		{"apache2"},
		{"openssh-server"},
		// libraries
		{"libssl3t64"},
		{"libpq5"},
		{"libxml2"},
		{"libcurl4t64"},
		{"libsqlite3-0"},
		{"zlib1g"},
		// tools
		{"curl"},
		{"git"},
		{"ca-certificates"},
		{"tzdata"}, // "debconf (>= 0.5) | debconf-2.0" → debconf: 2 packages
		{"openssl"},
		{"busybox"},
		{"gnupg"}, // gpg-agent: "pinentry-curses | pinentry" → pinentry-curses
		{"rsync"},
		{"jq"},
		{"imagemagick"},
		{"sudo", "cron", "logrotate"}, // logrotate: "cron | anacron | cron-daemon ..." met by the root cron
		{"procps", "iproute2", "netcat-openbsd", "less", "vim-tiny"},
		{"unzip", "zip", "xz-utils", "wget"},
		// alternatives and virtual packages
		{"bsd-mailx"},                 // "default-mta | mail-transport-agent": default-mta has one provider, exim4-daemon-light; exim4-base: "cron | cron-daemon | ..." → cron
		{"bsd-mailx", "postfix"},      // the MTA group is met by the root postfix (either order): no exim4
		{"postfix-pcre", "bsd-mailx"}, // postfix, marked as a dependency of the earlier root, meets the MTA group
		{"base-files"},                // Pre-Depends awk (virtual: gawk, mawk, original-awk) → mawk (Priority required)
		{"python3-cryptography"},      // versioned Provides: python3-cffi-backend-api-min (<= 9729) / -api-max (>= 9729) → python3-cffi-backend
		{"php8.4"},                    // "libapache2-mod-php8.4 | php8.4-fpm | php8.4-cgi" → libapache2-mod-php8.4
		{"php8.4", "php8.4-fpm"},      // same group met by the root php8.4-fpm
		{"libapache2-mod-php8.4"},
		{"sa-exim"}, // exim4-localscanapi-6.0 (virtual: exim4-daemon-heavy, -light) → exim4-daemon-light
		{"tua"},     // mailx (virtual: bsd-mailx, mailutils) → bsd-mailx, then bsd-mailx pulls exim4
		{"mailutils"},
	},
}

// Providers records, per release, the provider apt picks for a virtual
// package with several providers when an entry of Roots needs it through a
// dependency (apt fails only when a root itself is such a virtual). Only
// virtuals reached as the first satisfiable alternative of a group are
// listed; where the choice is a tie on everything readable from the indices
// (Priority, Essential, ...) apt decides by an internal cache id, so a
// resolver must be given these choices explicitly.
var Providers = map[string]map[string]string{
	"bookworm": {
		"awk":                    "mawk",               // base-files; mawk is Priority required
		"default-mta":            "exim4-daemon-light", // bsd-mailx; the only provider
		"exim4-localscanapi-6.0": "exim4-daemon-light", // sa-exim; tie with exim4-daemon-heavy
		"mailx":                  "bsd-mailx",          // tua, uucp; tie with mailutils
	},
	"trixie": {
		"awk":                    "mawk",
		"default-mta":            "exim4-daemon-light",
		"exim4-localscanapi-6.0": "exim4-daemon-light",
		"mailx":                  "bsd-mailx",
	},
}

// Refused are root sets for which apt's answer depends on un-marking a
// choice it made first: with bsd-mailx before postfix-pcre, apt picks exim4
// for bsd-mailx's mail server, then finds postfix conflicting with it,
// un-marks exim4 and keeps what exim4 had pulled in (bookworm +6 orphan
// packages, trixie +22, systemd and perl among them). temper refuses such a
// closure with a Conflicts error that shows both chains; the definition
// fixes it deliberately, by listing postfix-pcre first (an entry of Roots
// proves that order matches apt) or by excluding exim4-daemon-light.
var Refused = map[string][][]string{
	"bookworm": {{"bsd-mailx", "postfix-pcre"}},
	"trixie":   {{"bsd-mailx", "postfix-pcre"}},
}
