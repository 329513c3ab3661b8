/* st_io.h: a tiny, bounds-checked safetensors reader and writer in plain C (no dependencies).
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}, then raw data. */
#ifndef ST_IO_H
#define ST_IO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ST_MAX_RANK 8
#define ST_MAX_NAME 256
#define ST_ERR_LEN 512

typedef enum { ST_F32, ST_I32, ST_I64, ST_OTHER } st_dtype;

/* One tensor of a file; data points into the file's buffer (little-endian, maybe unaligned). */
typedef struct {
  char name[ST_MAX_NAME];
  char dtype_name[16]; /* as written in the file, e.g. "F32" */
  st_dtype dtype;
  int rank;
  int64_t shape[ST_MAX_RANK];
  int64_t numel;
  const unsigned char *data;
  size_t nbytes;
} st_tensor;

/* A whole file read into memory. */
typedef struct {
  unsigned char *buffer;
  st_tensor *tensors;
  int count;
} st_file;

/* Reads and validates `path`. Returns 0 on success; otherwise non-zero with a message naming
 * the file in err (ST_ERR_LEN bytes) and *out left empty. */
int st_read(const char *path, st_file *out, char *err);

/* The tensor called `name`, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Releases a file filled by st_read (safe on an empty one). */
void st_free(st_file *f);

/* A tensor to write: data holds numel elements of dtype (F32 or I32). */
typedef struct {
  const char *name;
  st_dtype dtype;
  int rank;
  int64_t shape[ST_MAX_RANK];
  const void *data;
} st_entry;

/* Writes entries to `path` atomically (a temporary file, then rename). Returns 0 on success;
 * otherwise non-zero with a message in err and no file at `path` changed. */
int st_write(const char *path, const st_entry *entries, int count, char *err);

/* "[64, 1, 28, 28]" into buf (at least 128 bytes), for messages. */
const char *st_shape_str(int rank, const int64_t *shape, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
