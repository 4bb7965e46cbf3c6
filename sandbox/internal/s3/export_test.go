package s3

import "github.com/slab-lab/slab/sandbox/internal/core"

// BlobCount is the number of stored object and part bodies, for tests that
// prove deletions free them.
func BlobCount(s *Service, tx *core.Tx) int { return s.blobs.Len(tx, "") }
