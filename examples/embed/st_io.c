/* st_io.c: safetensors reading and writing for the embedding example. Every length, offset
 * and shape in a file is checked before use, so a truncated or corrupt file is an error
 * message, never an out-of-bounds read. */
#include "st_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER ((uint64_t)100 * 1024 * 1024)
#define ST_MAX_FILE ((long)2047 * 1024 * 1024)
#define ST_MAX_TENSORS 100000
#define ST_MAX_DEPTH 64

static void set_err(char *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, ST_ERR_LEN, fmt, ap);
  va_end(ap);
}

/* ---- dtypes ---- */

static int dtype_size(const char *name) {
  static const struct {
    const char *name;
    int size;
  } table[] = {{"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2}, {"I64", 8}, {"I32", 4},
               {"I16", 2}, {"I8", 1},  {"U64", 8},  {"U32", 4},  {"U16", 2}, {"U8", 1},
               {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  size_t i;
  for (i = 0; i < sizeof(table) / sizeof(table[0]); ++i)
    if (strcmp(table[i].name, name) == 0)
      return table[i].size;
  return 0;
}

static st_dtype dtype_of(const char *name) {
  if (strcmp(name, "F32") == 0)
    return ST_F32;
  if (strcmp(name, "I32") == 0)
    return ST_I32;
  if (strcmp(name, "I64") == 0)
    return ST_I64;
  return ST_OTHER;
}

static const char *dtype_name(st_dtype d) {
  switch (d) {
  case ST_F32:
    return "F32";
  case ST_I32:
    return "I32";
  case ST_I64:
    return "I64";
  default:
    return NULL;
  }
}

const char *st_shape_str(int rank, const int64_t *shape, char *buf, size_t len) {
  size_t used = 0;
  int i;
  if (len == 0)
    return buf;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, len, "[");
  for (i = 0; i < rank && used < len; ++i)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < len)
    snprintf(buf + used, len - used, "]");
  return buf;
}

/* ---- a minimal JSON parser over the header bytes ---- */

typedef struct {
  const char *p;
  const char *begin;
  const char *end;
  const char *path;
  char *err;
} parser;

static int parse_fail(parser *ps, const char *what) {
  set_err(ps->err, "%s: bad safetensors header: %s at header byte %ld", ps->path, what,
          (long)(ps->p - ps->begin));
  return 1;
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ++ps->p;
}

/* Consumes `c` after optional whitespace. */
static int expect(parser *ps, char c) {
  char msg[32];
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == c) {
    ++ps->p;
    return 0;
  }
  snprintf(msg, sizeof msg, "expected '%c'", c);
  return parse_fail(ps, msg);
}

/* Whether the next non-blank character is `c` (consumed if so). */
static int accept(parser *ps, char c) {
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == c) {
    ++ps->p;
    return 1;
  }
  return 0;
}

static int hex4(parser *ps, unsigned *out) {
  unsigned v = 0;
  int i;
  if (ps->end - ps->p < 4)
    return parse_fail(ps, "truncated \\u escape");
  for (i = 0; i < 4; ++i) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return parse_fail(ps, "bad \\u escape");
  }
  *out = v;
  return 0;
}

/* Appends code point cp as UTF-8 to dst[*n] (cap bytes including the final NUL). */
static int put_utf8(parser *ps, char *dst, size_t cap, size_t *n, unsigned cp) {
  unsigned char b[4];
  size_t k = 0, i;
  if (cp < 0x80) {
    b[k++] = (unsigned char)cp;
  } else if (cp < 0x800) {
    b[k++] = (unsigned char)(0xC0 | (cp >> 6));
    b[k++] = (unsigned char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    b[k++] = (unsigned char)(0xE0 | (cp >> 12));
    b[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[k++] = (unsigned char)(0x80 | (cp & 0x3F));
  } else {
    b[k++] = (unsigned char)(0xF0 | (cp >> 18));
    b[k++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[k++] = (unsigned char)(0x80 | (cp & 0x3F));
  }
  if (*n + k >= cap)
    return parse_fail(ps, "string too long");
  for (i = 0; i < k; ++i)
    dst[(*n)++] = (char)b[i];
  return 0;
}

static int parse_escape(parser *ps, char *dst, size_t cap, size_t *n) {
  unsigned cp, lo;
  char c;
  if (ps->p >= ps->end)
    return parse_fail(ps, "unterminated string");
  c = *ps->p++;
  switch (c) {
  case '"': case '\\': case '/': cp = (unsigned char)c; break;
  case 'b': cp = '\b'; break;
  case 'f': cp = '\f'; break;
  case 'n': cp = '\n'; break;
  case 'r': cp = '\r'; break;
  case 't': cp = '\t'; break;
  case 'u':
    if (hex4(ps, &cp))
      return 1;
    if (cp >= 0xD800 && cp < 0xDC00) {
      if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
        return parse_fail(ps, "unpaired surrogate in \\u escape");
      ps->p += 2;
      if (hex4(ps, &lo))
        return 1;
      if (lo < 0xDC00 || lo >= 0xE000)
        return parse_fail(ps, "unpaired surrogate in \\u escape");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return parse_fail(ps, "unpaired surrogate in \\u escape");
    }
    break;
  default:
    return parse_fail(ps, "bad escape in string");
  }
  return put_utf8(ps, dst, cap, n, cp);
}

/* A JSON string into dst (cap bytes with NUL); dst may be NULL to skip it. */
static int parse_string(parser *ps, char *dst, size_t cap) {
  char scratch[ST_MAX_NAME];
  size_t n = 0;
  if (!dst) {
    dst = scratch;
    cap = sizeof scratch;
  }
  if (expect(ps, '"'))
    return 1;
  for (;;) {
    char c;
    if (dst == scratch && n + 8 >= cap)
      n = 0; /* a skipped string may be of any length */
    if (ps->p >= ps->end)
      return parse_fail(ps, "unterminated string");
    c = *ps->p++;
    if (c == '"')
      break;
    if ((unsigned char)c < 0x20)
      return parse_fail(ps, "control character in string");
    if (c == '\\') {
      if (parse_escape(ps, dst, cap, &n))
        return 1;
      continue;
    }
    if (n + 1 >= cap)
      return parse_fail(ps, "string too long");
    dst[n++] = c;
  }
  dst[n] = '\0';
  return 0;
}

/* A non-negative integer that fits in int64_t. */
static int parse_uint(parser *ps, int64_t *out) {
  int64_t v = 0;
  int digits = 0;
  skip_ws(ps);
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
    int d = *ps->p - '0';
    if (v > (INT64_MAX - d) / 10)
      return parse_fail(ps, "integer too large");
    v = v * 10 + d;
    ++ps->p;
    ++digits;
  }
  if (digits == 0)
    return parse_fail(ps, "expected a non-negative integer");
  *out = v;
  return 0;
}

/* Skips any JSON value (used for __metadata__ and unknown fields). */
static int skip_value(parser *ps, int depth) {
  if (depth > ST_MAX_DEPTH)
    return parse_fail(ps, "nesting too deep");
  skip_ws(ps);
  if (ps->p >= ps->end)
    return parse_fail(ps, "unexpected end of header");
  if (*ps->p == '"')
    return parse_string(ps, NULL, 0);
  if (*ps->p == '{' || *ps->p == '[') {
    char close = *ps->p == '{' ? '}' : ']';
    int is_obj = close == '}';
    ++ps->p;
    if (accept(ps, close))
      return 0;
    do {
      if (is_obj && (parse_string(ps, NULL, 0) || expect(ps, ':')))
        return 1;
      if (skip_value(ps, depth + 1))
        return 1;
    } while (accept(ps, ','));
    return expect(ps, close);
  }
  /* number, true, false, null */
  if (!strchr("-0123456789tfn", *ps->p))
    return parse_fail(ps, "unexpected character");
  while (ps->p < ps->end && strchr("+-.0123456789eEtruefalsn", *ps->p))
    ++ps->p;
  return 0;
}

/* [a, b, ...] of at most cap non-negative integers. */
static int parse_uint_array(parser *ps, int64_t *vals, int cap, int *count) {
  *count = 0;
  if (expect(ps, '['))
    return 1;
  if (accept(ps, ']'))
    return 0;
  do {
    if (*count >= cap)
      return parse_fail(ps, "too many entries in array");
    if (parse_uint(ps, &vals[(*count)++]))
      return 1;
  } while (accept(ps, ','));
  return expect(ps, ']');
}

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]} */
static int parse_tensor(parser *ps, st_tensor *t, int64_t offsets[2]) {
  int have_dtype = 0, have_shape = 0, have_offsets = 0, n = 0;
  char key[64];
  if (expect(ps, '{'))
    return 1;
  if (!accept(ps, '}')) {
    do {
      if (parse_string(ps, key, sizeof key) || expect(ps, ':'))
        return 1;
      if (strcmp(key, "dtype") == 0) {
        if (parse_string(ps, t->dtype_name, sizeof t->dtype_name))
          return 1;
        have_dtype = 1;
      } else if (strcmp(key, "shape") == 0) {
        if (parse_uint_array(ps, t->shape, ST_MAX_RANK, &t->rank))
          return 1;
        have_shape = 1;
      } else if (strcmp(key, "data_offsets") == 0) {
        if (parse_uint_array(ps, offsets, 2, &n))
          return 1;
        if (n != 2)
          return parse_fail(ps, "data_offsets must hold two integers");
        have_offsets = 1;
      } else if (skip_value(ps, 1)) {
        return 1;
      }
    } while (accept(ps, ','));
    if (expect(ps, '}'))
      return 1;
  }
  if (!have_dtype || !have_shape || !have_offsets) {
    set_err(ps->err, "%s: tensor '%s' lacks %s", ps->path, t->name,
            !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    return 1;
  }
  return 0;
}

/* Checks a parsed tensor against the data section and points it at its bytes. */
static int place_tensor(st_tensor *t, const int64_t offsets[2], const unsigned char *data,
                        uint64_t data_size, const char *path, char *err) {
  int size = dtype_size(t->dtype_name);
  int i;
  char shape[128];
  t->dtype = dtype_of(t->dtype_name);
  t->numel = 1;
  for (i = 0; i < t->rank; ++i) {
    if (t->shape[i] != 0 && t->numel > INT64_MAX / 8 / t->shape[i]) {
      set_err(err, "%s: tensor '%s' has a too large shape", path, t->name);
      return 1;
    }
    t->numel *= t->shape[i];
  }
  if (offsets[0] > offsets[1] || (uint64_t)offsets[1] > data_size) {
    set_err(err,
            "%s: tensor '%s' data_offsets [%lld, %lld] lie outside the %llu data bytes "
            "(file truncated?)",
            path, t->name, (long long)offsets[0], (long long)offsets[1],
            (unsigned long long)data_size);
    return 1;
  }
  if (size == 0) {
    set_err(err, "%s: tensor '%s' has unknown dtype '%s'", path, t->name, t->dtype_name);
    return 1;
  }
  if (offsets[1] - offsets[0] != t->numel * size) {
    set_err(err, "%s: tensor '%s' (%s %s) needs %lld bytes but data_offsets span %lld", path,
            t->name, t->dtype_name, st_shape_str(t->rank, t->shape, shape, sizeof shape),
            (long long)(t->numel * size), (long long)(offsets[1] - offsets[0]));
    return 1;
  }
  t->data = data + offsets[0];
  t->nbytes = (size_t)(offsets[1] - offsets[0]);
  return 0;
}

static int add_tensor(st_file *f, int *cap, char *err, const char *path) {
  st_tensor *grown;
  if (f->count < *cap)
    return 0;
  if (*cap >= ST_MAX_TENSORS) {
    set_err(err, "%s: more than %d tensors", path, ST_MAX_TENSORS);
    return 1;
  }
  *cap = *cap ? *cap * 2 : 16;
  grown = (st_tensor *)realloc(f->tensors, (size_t)*cap * sizeof(st_tensor));
  if (!grown) {
    set_err(err, "%s: out of memory", path);
    return 1;
  }
  f->tensors = grown;
  return 0;
}

static int parse_header(parser *ps, st_file *f, const unsigned char *data, uint64_t data_size) {
  int cap = 0, i;
  if (expect(ps, '{'))
    return 1;
  if (accept(ps, '}'))
    return 0;
  do {
    st_tensor *t;
    int64_t offsets[2];
    if (add_tensor(f, &cap, ps->err, ps->path))
      return 1;
    t = &f->tensors[f->count];
    memset(t, 0, sizeof *t);
    if (parse_string(ps, t->name, sizeof t->name) || expect(ps, ':'))
      return 1;
    if (strcmp(t->name, "__metadata__") == 0) {
      if (skip_value(ps, 1))
        return 1;
      continue;
    }
    for (i = 0; i < f->count; ++i)
      if (strcmp(f->tensors[i].name, t->name) == 0) {
        set_err(ps->err, "%s: tensor '%s' appears twice", ps->path, t->name);
        return 1;
      }
    if (parse_tensor(ps, t, offsets) ||
        place_tensor(t, offsets, data, data_size, ps->path, ps->err))
      return 1;
    ++f->count;
  } while (accept(ps, ','));
  if (expect(ps, '}'))
    return 1;
  skip_ws(ps);
  if (ps->p != ps->end)
    return parse_fail(ps, "trailing characters after the header object");
  return 0;
}

/* ---- reading ---- */

static int read_all(const char *path, unsigned char **buf, size_t *size, char *err) {
  FILE *fp = fopen(path, "rb");
  long len;
  if (!fp) {
    set_err(err, "%s: cannot open: %s", path, strerror(errno));
    return 1;
  }
  if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
    set_err(err, "%s: cannot determine the file size", path);
    fclose(fp);
    return 1;
  }
  if (len > ST_MAX_FILE) {
    set_err(err, "%s: file too large (%ld bytes)", path, len);
    fclose(fp);
    return 1;
  }
  *buf = (unsigned char *)malloc(len > 0 ? (size_t)len : 1);
  if (!*buf) {
    set_err(err, "%s: out of memory reading %ld bytes", path, len);
    fclose(fp);
    return 1;
  }
  if (len > 0 && fread(*buf, 1, (size_t)len, fp) != (size_t)len) {
    set_err(err, "%s: read error", path);
    free(*buf);
    *buf = NULL;
    fclose(fp);
    return 1;
  }
  fclose(fp);
  *size = (size_t)len;
  return 0;
}

int st_read(const char *path, st_file *out, char *err) {
  unsigned char *buf = NULL;
  size_t size = 0;
  uint64_t header_len = 0;
  int i;
  parser ps;
  memset(out, 0, sizeof *out);
  if (read_all(path, &buf, &size, err))
    return 1;
  if (size < 8) {
    set_err(err, "%s: not a safetensors file (%lu bytes, shorter than the 8-byte header length)",
            path, (unsigned long)size);
    free(buf);
    return 1;
  }
  for (i = 7; i >= 0; --i)
    header_len = (header_len << 8) | buf[i];
  if (header_len > ST_MAX_HEADER || header_len > size - 8) {
    set_err(err,
            "%s: not a safetensors file or truncated: header length %llu but only %lu bytes "
            "follow",
            path, (unsigned long long)header_len, (unsigned long)(size - 8));
    free(buf);
    return 1;
  }
  out->buffer = buf;
  ps.begin = ps.p = (const char *)buf + 8;
  ps.end = ps.p + header_len;
  ps.path = path;
  ps.err = err;
  if (parse_header(&ps, out, buf + 8 + header_len, size - 8 - header_len)) {
    st_free(out);
    return 1;
  }
  return 0;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  int i;
  for (i = 0; i < f->count; ++i)
    if (strcmp(f->tensors[i].name, name) == 0)
      return &f->tensors[i];
  return NULL;
}

void st_free(st_file *f) {
  free(f->tensors);
  free(f->buffer);
  memset(f, 0, sizeof *f);
}

/* ---- writing ---- */

typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 256) + n;
    char *grown = (char *)realloc(b->s, cap);
    if (!grown) {
      b->oom = 1;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(strbuf *b, const char *s) {
  sb_str(b, "\"");
  for (; *s; ++s) {
    char esc[8];
    if (*s == '"' || *s == '\\') {
      esc[0] = '\\';
      esc[1] = *s;
      sb_put(b, esc, 2);
    } else if ((unsigned char)*s < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", (unsigned)(unsigned char)*s);
      sb_str(b, esc);
    } else {
      sb_put(b, s, 1);
    }
  }
  sb_str(b, "\"");
}

static int64_t entry_bytes(const st_entry *e) {
  int64_t n = 4;
  int i;
  for (i = 0; i < e->rank; ++i)
    n *= e->shape[i];
  return n;
}

/* The JSON header, padded with spaces so that the data starts 8-byte aligned. */
static int build_header(strbuf *b, const st_entry *entries, int count, char *err) {
  int64_t offset = 0;
  int i, d;
  char num[64];
  sb_str(b, "{");
  for (i = 0; i < count; ++i) {
    const st_entry *e = &entries[i];
    if (!dtype_name(e->dtype) || e->dtype == ST_I64 || e->rank < 0 || e->rank > ST_MAX_RANK) {
      set_err(err, "tensor '%s': only F32 and I32 tensors of rank <= %d can be written", e->name,
              ST_MAX_RANK);
      return 1;
    }
    sb_str(b, i ? "," : "");
    sb_json_string(b, e->name);
    sb_str(b, ":{\"dtype\":\"");
    sb_str(b, dtype_name(e->dtype));
    sb_str(b, "\",\"shape\":[");
    for (d = 0; d < e->rank; ++d) {
      snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)e->shape[d]);
      sb_str(b, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%lld,%lld]}", (long long)offset,
             (long long)(offset + entry_bytes(e)));
    sb_str(b, num);
    offset += entry_bytes(e);
  }
  sb_str(b, "}");
  while (!b->oom && b->len % 8 != 0)
    sb_str(b, " ");
  if (b->oom) {
    set_err(err, "out of memory building a safetensors header");
    return 1;
  }
  return 0;
}

static int write_body(FILE *fp, const strbuf *header, const st_entry *entries, int count) {
  unsigned char len_bytes[8];
  uint64_t len = header->len;
  int i;
  for (i = 0; i < 8; ++i)
    len_bytes[i] = (unsigned char)(len >> (8 * i));
  if (fwrite(len_bytes, 1, 8, fp) != 8 || fwrite(header->s, 1, header->len, fp) != header->len)
    return 1;
  for (i = 0; i < count; ++i) {
    size_t n = (size_t)entry_bytes(&entries[i]);
    if (n && fwrite(entries[i].data, 1, n, fp) != n)
      return 1;
  }
  return 0;
}

int st_write(const char *path, const st_entry *entries, int count, char *err) {
  strbuf header = {NULL, 0, 0, 0};
  size_t tmp_len = strlen(path) + 16;
  char *tmp = (char *)malloc(tmp_len);
  FILE *fp;
  int bad;
  if (!tmp || build_header(&header, entries, count, err)) {
    if (!tmp)
      set_err(err, "%s: out of memory", path);
    free(tmp);
    free(header.s);
    return 1;
  }
  snprintf(tmp, tmp_len, "%s.tmp", path);
  fp = fopen(tmp, "wb");
  if (!fp) {
    set_err(err, "%s: cannot create: %s", tmp, strerror(errno));
    free(tmp);
    free(header.s);
    return 1;
  }
  bad = write_body(fp, &header, entries, count);
  bad |= fclose(fp) != 0;
  if (bad || rename(tmp, path) != 0) {
    set_err(err, "%s: cannot write: %s", path, strerror(errno));
    remove(tmp);
    bad = 1;
  }
  free(tmp);
  free(header.s);
  return bad;
}
