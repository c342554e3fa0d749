package update

import "sync"

// memo runs a function once per key, concurrently safe.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*memoCall[V]
}

type memoCall[V any] struct {
	once sync.Once
	v    V
	err  error
}

func (m *memo[K, V]) do(k K, f func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]*memoCall[V]{}
	}
	c, ok := m.m[k]
	if !ok {
		c = &memoCall[V]{}
		m.m[k] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.v, c.err = f() })
	return c.v, c.err
}
