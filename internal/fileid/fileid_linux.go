//go:build linux

package fileid

import (
	"io/fs"
	"syscall"
)

// Of is fi's identity; ok is false where the system does not say it.
func Of(fi fs.FileInfo) (ID, bool) {
	if fi == nil {
		return ID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ID{}, false
	}
	return ID{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
	}, true
}
