package server_test

import "sync"

type syncMutex = sync.Mutex
