package accounts

import (
	"strings"
	"testing"
)

const (
	passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
		"www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
		"redis:x:0999:0998::/var/lib/redis:/usr/sbin/nologin\n" +
		"broken:x:abc:1::/:/usr/sbin/nologin\n" +
		"nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin"
	group = "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\nredis:x:998:\nnonroot:x:65532:\n"
)

func TestResolve(t *testing.T) {
	for _, c := range []struct {
		user     string
		uid, gid int
		text     string // String(); "" when an error is wanted
		err      string
	}{
		// uid:gid numbers: as written (the image config keeps the digits).
		{user: "999:999", uid: 999, gid: 999, text: "999:999"},
		{user: "0:0", uid: 0, gid: 0, text: "0:0"},
		{user: "0033:33", uid: 33, gid: 33, text: "0033:33"},
		{user: "4294967294:4294967294", uid: 4294967294, gid: 4294967294, text: "4294967294:4294967294"},
		// A bare number is uid and gid alike, whether passwd has it or not.
		{user: "33", uid: 33, gid: 33, text: "33:33"},
		{user: "1000", uid: 1000, gid: 1000, text: "1000:1000"},
		{user: "0", uid: 0, gid: 0, text: "0:0"},
		// Names: the passwd line's uid and primary gid.
		{user: "nonroot", uid: 65532, gid: 65532, text: "65532:65532"},
		{user: "www-data", uid: 33, gid: 33, text: "33:33"},
		{user: "redis", uid: 999, gid: 998, text: "0999:0998"},
		{user: "root", uid: 0, gid: 0, text: "0:0"},
		// name:group and mixed forms: each side looked up in its file.
		{user: "www-data:nogroup", uid: 33, gid: 65534, text: "33:65534"},
		{user: "redis:0", uid: 999, gid: 0, text: "0999:0"},
		{user: "1000:redis", uid: 1000, gid: 998, text: "1000:998"},
		// Unknown users and groups, and what is not a user at all.
		{user: "postgres", err: `"postgres" is not in /etc/passwd`},
		{user: "postgres:redis", err: `"postgres:redis": user "postgres" is not in /etc/passwd`},
		{user: "redis:postgres", err: `"redis:postgres": group "postgres" is not in /etc/group`},
		{user: "broken", err: `"broken": "abc:1" is not a numeric uid:gid`},
		{user: "", err: `"": no user`},
		{user: "-1", err: `"-1" is not in /etc/passwd`},
		{user: "1:", err: `"1:": group "" is not in /etc/group`},
	} {
		id, err := Resolve(c.user, []byte(passwd), []byte(group))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: %v (%v), want error %q", c.user, id, err, c.err)
			}
			continue
		}
		if err != nil || id.UID != c.uid || id.GID != c.gid || id.String() != c.text {
			t.Errorf("%q: %d:%d %q %v, want %d:%d %q", c.user, id.UID, id.GID, id, err, c.uid, c.gid, c.text)
		}
	}
}

func TestResolveWithoutFiles(t *testing.T) {
	if id, err := Resolve("65532:65532", nil, nil); err != nil || id.String() != "65532:65532" {
		t.Errorf("numbers need no files: %v %v", id, err)
	}
	if _, err := Resolve("nonroot", nil, nil); err == nil || !strings.Contains(err.Error(), "not in /etc/passwd") {
		t.Errorf("name without passwd: %v", err)
	}
}

func TestTable(t *testing.T) {
	users := Passwd([]byte(passwd + "\ntoor:x:0:0::/:/usr/sbin/nologin\n"))
	if id, ok := users.ID("www-data"); !ok || id != 33 {
		t.Errorf("www-data: %d %v", id, ok)
	}
	if _, ok := users.ID("broken"); ok {
		t.Errorf("a line without a numeric uid was read")
	}
	if n, ok := users.Name(0); !ok || n != "root" {
		t.Errorf("uid 0 belongs to %q, want the first line's root", n)
	}
	users.Add("app", 1000)
	if n, _ := users.Name(1000); n != "app" {
		t.Errorf("added: %q", n)
	}
	groups := Group([]byte(group))
	if id, ok := groups.ID("nogroup"); !ok || id != 65534 {
		t.Errorf("nogroup: %d %v", id, ok)
	}
}

func TestAppendLine(t *testing.T) {
	for in, want := range map[string]string{
		"":            "app:x:1000:\n",
		"root:x:0:":   "root:x:0:\napp:x:1000:\n",
		"root:x:0:\n": "root:x:0:\napp:x:1000:\n",
	} {
		if got := string(AppendLine([]byte(in), "app:x:1000:")); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestNoLoginShells(t *testing.T) {
	in := "root:x:0:0:root:/root:/bin/bash\nsync:x:4:65534:sync:/bin:/bin/sync\n" +
		"a:x:1:1::/:/usr/bin/dash\nb:x:2:2::/:/bin/rbash\nbad\nc:x:3:3::/:/bin/sh"
	want := "root:x:0:0:root:/root:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\n" +
		"a:x:1:1::/:/usr/sbin/nologin\nb:x:2:2::/:/usr/sbin/nologin\nbad\nc:x:3:3::/:/usr/sbin/nologin\n"
	if got := string(NoLoginShells([]byte(in))); got != want {
		t.Errorf("got %q", got)
	}
}
