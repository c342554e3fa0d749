//go:build !linux

package cache

import "io/fs"

// identity is not known here: every read is hashed.
func identity(fs.FileInfo) (fileID, bool) { return fileID{}, false }
