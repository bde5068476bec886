package app

import (
	"context"
	"log/slog"
	"path/filepath"

	"linli/internal/blob"
	"linli/internal/config"
)

// openFiles returns where files are kept: the data directory's files
// folder, or the bucket of LINLI_BLOB_URL. A bucket that cannot be reached
// at start does not stop the server (calls, doors and the console work
// without files); it is logged, /readyz shows files down, and uploads answer
// 503 until the store is back.
func openFiles(ctx context.Context, cfg config.Config, logger *slog.Logger) (blob.Store, error) {
	files, err := blob.Open(cfg.BlobURL, filepath.Join(cfg.DataDir, "files"), blob.Credentials{
		AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey,
		SessionToken: cfg.S3SessionToken, Region: cfg.S3Region,
	})
	if err != nil {
		return nil, err
	}
	if s3, ok := files.(*blob.S3); ok {
		if err := s3.Check(ctx); err != nil {
			logger.Error("file store unreachable: uploads answer 503 until it is back", "store", s3.String(), "err", err)
		} else {
			logger.Info("files kept in S3", "store", s3.String())
		}
	}
	return files, nil
}
