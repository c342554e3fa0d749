package deb

import (
	"fmt"
	"io"

	"github.com/temper-dev/temper/internal/limits"
)

// unpackBudget is how many uncompressed bytes the tar of member m may
// hold: for data.tar the per-.deb ceiling (the ratio to its compressed
// size, at least the ratio floor, and never more than the per-image
// ceiling); for control.tar a fixed ceiling.
func unpackBudget(m member, control bool) (int64, string) {
	if control {
		return MaxControlSize + 1<<20, fmt.Sprintf("the control.tar limit of %s", limits.Human(MaxControlSize))
	}
	l := limits.Get()
	comp := int64(len(m.body))
	budget := l.RatioFloor
	why := fmt.Sprintf("the ratio floor of %s (TEMPER_LIMIT_RATIO_FLOOR)", limits.Human(l.RatioFloor))
	if comp > 0 && comp <= (1<<62)/l.Ratio && comp*l.Ratio > budget {
		budget = comp * l.Ratio
		why = fmt.Sprintf("%d× its %d compressed bytes (TEMPER_LIMIT_RATIO)", l.Ratio, comp)
	}
	if budget > l.Image {
		budget = l.Image
		why = fmt.Sprintf("the per-image limit of %s (TEMPER_LIMIT_IMAGE)", limits.Human(l.Image))
	}
	return budget, why
}

// budgetReader counts what a decompressor produces and fails once it
// produces more than max bytes: a decompression bomb stops there, before
// anything downstream holds it.
type budgetReader struct {
	r    io.Reader
	n    int64
	max  int64
	fail func() error
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n >= b.max {
		// One more byte proves the stream goes on past the budget.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, b.fail()
		}
	}
	if int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		return 0, b.fail()
	}
	return n, err
}

// LimitError is a limit a .deb exceeded; it names the .deb, the member
// (and entry) and the limit.
type LimitError = limits.Error

func (d *Deb) limitError(m member, entry, limit string) error {
	where := m.name
	if entry != "" {
		where += ": " + entry
	}
	return &LimitError{What: "deb " + d.name, Where: where, Limit: limit}
}

// ReadEntry reads an entry of size bytes from r, growing its buffer with
// the bytes that actually arrive rather than allocating what a header
// claims up front (beyond a first 16 MiB).
func ReadEntry(r io.Reader, size int64) ([]byte, error) {
	const first = 16 << 20
	if size < 0 {
		return nil, fmt.Errorf("negative size %d", size)
	}
	if size <= first {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	b := make([]byte, 0, first)
	for int64(len(b)) < size {
		if len(b) == cap(b) {
			c := min(int64(cap(b))*2, size)
			nb := make([]byte, len(b), c)
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF && int64(len(b)) < size {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return b, nil
}
