/* main.c: trains gradc's ahead-of-time compiled mlp_fashion from a plain C program that links
 * only libc, libm and pthreads. Parameters load by name from safetensors (a PyTorch state_dict
 * saved with safetensors works as is) or from a raw float file; see README.md. */
#define _POSIX_C_SOURCE 200809L

#include "mlp_fashion.h"
#include "st_io.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The model's inputs and output (examples/models/mlp_fashion.json). */
#define BATCH 64
#define NUM_CLASSES 10
#define IMAGE_NUMEL (BATCH * 1 * 28 * 28)
#define OUT_NUMEL (BATCH * NUM_CLASSES)
#define SCRATCH_BYTES                                                                              \
  (MLP_FASHION_TRAIN_STEP_SCRATCH_BYTES > MLP_FASHION_FORWARD_SCRATCH_BYTES                        \
       ? MLP_FASHION_TRAIN_STEP_SCRATCH_BYTES                                                      \
       : MLP_FASHION_FORWARD_SCRATCH_BYTES)
#define MAX_THREADS 64
#define MAX_STEPS 1000000L

static const char *prog = "embed_mlp_fashion";

typedef struct {
  const char *weights;  /* --weights W.safetensors */
  const char *raw;      /* --raw W.bin */
  const char *feed;     /* --feed FEED.safetensors */
  const char *out;      /* --out OUT.safetensors */
  const char *save_raw; /* --save-raw W.bin: parameters after training */
  long steps;
  int threads;
  int kernel_threads; /* --kernel-threads: mlp_fashion_set_threads; 0 = every CPU */
} options;

/* One batch, in 64-byte aligned buffers. */
typedef struct {
  float *image;
  int32_t *label;
} batch;

/* One independent model: its own parameters, optimizer state and scratch. */
typedef struct {
  float *params;
  float *state;
  void *scratch;
  float *losses;
  long steps;
  const batch *feed;
  struct gate_s *start;
} instance;

static int fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: error: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static void usage(FILE *to) {
  fprintf(to,
          "usage: %s (--weights W.safetensors | --raw W.bin) --feed FEED.safetensors\n"
          "         [--steps N] [--out OUT.safetensors] [--save-raw W.bin] [--threads T]\n"
          "         [--kernel-threads K]\n"
          "  --weights   parameters by name (fc1.weight, ...), e.g. a PyTorch state_dict\n"
          "  --raw       little-endian f32 parameters in table order, unpadded or packed\n"
          "  --feed      image F32 [64,1,28,28] and label I32 (or I64) [64]\n"
          "  --steps     SGD steps with the model's default learning rate (default 10)\n"
          "  --out       writes out.fc3 and loss (first forward), losses [N], param.*\n"
          "  --save-raw  writes the trained parameters as an unpadded raw file\n"
          "  --threads   trains T copies concurrently and checks they match one thread\n"
          "  --kernel-threads  threads each call's kernels use (default: every CPU)\n",
          prog);
}

/* ---- command line ---- */

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return fail("%s: expected an integer in [%ld, %ld], got '%s'", flag, lo, hi, s);
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, options *o) {
  int i;
  long threads = 1, kernel_threads = 0;
  memset(o, 0, sizeof *o);
  o->steps = 10;
  for (i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (!v)
      return fail("%s: missing value (see --help)", a);
    ++i;
    if (strcmp(a, "--weights") == 0)
      o->weights = v;
    else if (strcmp(a, "--raw") == 0)
      o->raw = v;
    else if (strcmp(a, "--feed") == 0)
      o->feed = v;
    else if (strcmp(a, "--out") == 0)
      o->out = v;
    else if (strcmp(a, "--save-raw") == 0)
      o->save_raw = v;
    else if (strcmp(a, "--steps") == 0) {
      if (parse_long(a, v, 0, MAX_STEPS, &o->steps))
        return 1;
    } else if (strcmp(a, "--threads") == 0) {
      if (parse_long(a, v, 1, MAX_THREADS, &threads))
        return 1;
    } else if (strcmp(a, "--kernel-threads") == 0) {
      if (parse_long(a, v, 1, 256, &kernel_threads))
        return 1;
    } else
      return fail("unknown option '%s' (see --help)", a);
  }
  o->threads = (int)threads;
  o->kernel_threads = (int)kernel_threads;
  if (!o->feed)
    return fail("--feed FEED.safetensors is required (see --help)");
  if (!o->weights == !o->raw)
    return fail("give exactly one of --weights W.safetensors and --raw W.bin");
  return 0;
}

/* ---- memory ---- */

/* 64-byte aligned and zeroed; aligned_alloc wants a multiple of the alignment. */
static void *alloc_aligned(size_t bytes) {
  size_t rounded =
      (bytes + MLP_FASHION_ALIGNMENT - 1) / MLP_FASHION_ALIGNMENT * MLP_FASHION_ALIGNMENT;
  void *p;
  if (rounded == 0)
    rounded = MLP_FASHION_ALIGNMENT;
  p = aligned_alloc(MLP_FASHION_ALIGNMENT, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

static int host_is_little_endian(void) {
  const uint32_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* ---- parameters ---- */

static const gradc_tensor_desc *param_desc(const char *name) {
  int i;
  for (i = 0; i < MLP_FASHION_NUM_PARAMS; ++i)
    if (strcmp(mlp_fashion_params[i].name, name) == 0)
      return &mlp_fashion_params[i];
  return NULL;
}

static int same_shape(const st_tensor *t, const gradc_tensor_desc *d) {
  int i;
  if (t->rank != d->rank)
    return 0;
  for (i = 0; i < d->rank; ++i)
    if (t->shape[i] != d->shape[i])
      return 0;
  return 1;
}

/* Every parameter of the header's table by name; a missing, extra, mistyped or wrongly shaped
 * tensor is an error naming it. */
static int load_params_st(const char *path, float *params) {
  st_file f;
  char err[ST_ERR_LEN], want[128], got[128];
  int i;
  if (st_read(path, &f, err))
    return fail("%s", err);
  for (i = 0; i < f.count; ++i)
    if (!param_desc(f.tensors[i].name)) {
      fail("%s: unexpected tensor '%s' (mlp_fashion has no such parameter)", path,
           f.tensors[i].name);
      st_free(&f);
      return 1;
    }
  for (i = 0; i < MLP_FASHION_NUM_PARAMS; ++i) {
    const gradc_tensor_desc *d = &mlp_fashion_params[i];
    const st_tensor *t = st_find(&f, d->name);
    const char *problem = !t                   ? "is missing"
                          : t->dtype != ST_F32 ? "must be F32"
                          : !same_shape(t, d)  ? "has the wrong shape"
                                               : NULL;
    if (problem) {
      fail("%s: parameter '%s' %s (want F32 %s, got %s %s)", path, d->name, problem,
           st_shape_str(d->rank, d->shape, want, sizeof want), t ? t->dtype_name : "nothing",
           t ? st_shape_str(t->rank, t->shape, got, sizeof got) : "");
      st_free(&f);
      return 1;
    }
    memcpy((char *)params + d->offset, t->data, t->nbytes);
  }
  st_free(&f);
  return 0;
}

static long unpadded_param_bytes(void) {
  long n = 0;
  int i;
  for (i = 0; i < MLP_FASHION_NUM_PARAMS; ++i)
    n += (long)mlp_fashion_params[i].numel * 4;
  return n;
}

/* A raw file holds the tensors in table order, either back to back (unpadded_param_bytes) or
 * as the packed buffer itself (MLP_FASHION_PARAMS_BYTES). */
static int load_params_raw(const char *path, float *params) {
  FILE *fp = fopen(path, "rb");
  long size = -1, unpadded = unpadded_param_bytes();
  int i, ok = 1;
  if (!fp)
    return fail("%s: cannot open: %s", path, strerror(errno));
  if (fseek(fp, 0, SEEK_END) == 0)
    size = ftell(fp);
  if (size != unpadded && size != (long)MLP_FASHION_PARAMS_BYTES) {
    fclose(fp);
    return fail("%s: raw parameters must be %ld bytes (unpadded) or %ld bytes (packed), got %ld",
                path, unpadded, (long)MLP_FASHION_PARAMS_BYTES, size);
  }
  rewind(fp);
  if (size == (long)MLP_FASHION_PARAMS_BYTES) {
    ok = fread(params, 1, (size_t)size, fp) == (size_t)size;
  } else {
    for (i = 0; i < MLP_FASHION_NUM_PARAMS && ok; ++i) {
      const gradc_tensor_desc *d = &mlp_fashion_params[i];
      ok = fread((char *)params + d->offset, 4, (size_t)d->numel, fp) == (size_t)d->numel;
    }
  }
  fclose(fp);
  return ok ? 0 : fail("%s: read error", path);
}

static int save_params_raw(const char *path, const float *params) {
  FILE *fp = fopen(path, "wb");
  int i, ok = 1;
  if (!fp)
    return fail("%s: cannot create: %s", path, strerror(errno));
  for (i = 0; i < MLP_FASHION_NUM_PARAMS && ok; ++i) {
    const gradc_tensor_desc *d = &mlp_fashion_params[i];
    ok = fwrite((const char *)params + d->offset, 4, (size_t)d->numel, fp) == (size_t)d->numel;
  }
  ok &= fclose(fp) == 0;
  return ok ? 0 : fail("%s: write error", path);
}

/* ---- feed ---- */

static int check_tensor(const char *path, const st_tensor *t, const char *name, int rank,
                        const int64_t *shape) {
  char want[128], got[128];
  int i, same = t && t->rank == rank;
  for (i = 0; same && i < rank; ++i)
    same = t->shape[i] == shape[i];
  if (!t)
    return fail("%s: missing input '%s'", path, name);
  if (!same)
    return fail("%s: input '%s' has shape %s, expected %s", path, name,
                st_shape_str(t->rank, t->shape, got, sizeof got),
                st_shape_str(rank, shape, want, sizeof want));
  return 0;
}

static int copy_labels(const char *path, const st_tensor *t, int32_t *label) {
  int i;
  for (i = 0; i < BATCH; ++i) {
    int64_t v;
    if (t->dtype == ST_I32) {
      int32_t v32;
      memcpy(&v32, t->data + 4 * i, 4);
      v = v32;
    } else if (t->dtype == ST_I64) {
      memcpy(&v, t->data + 8 * i, 8);
    } else {
      return fail("%s: input 'label' must be I32 or I64, got %s", path, t->dtype_name);
    }
    if (v < 0 || v >= NUM_CLASSES)
      return fail("%s: label[%d] = %lld is not a class in [0, %d)", path, i, (long long)v,
                  NUM_CLASSES);
    label[i] = (int32_t)v;
  }
  return 0;
}

static int load_feed(const char *path, batch *b) {
  static const int64_t image_shape[4] = {BATCH, 1, 28, 28};
  static const int64_t label_shape[1] = {BATCH};
  st_file f;
  char err[ST_ERR_LEN];
  const st_tensor *image, *label;
  int bad;
  if (st_read(path, &f, err))
    return fail("%s", err);
  image = st_find(&f, "image");
  label = st_find(&f, "label");
  bad = check_tensor(path, image, "image", 4, image_shape) ||
        check_tensor(path, label, "label", 1, label_shape);
  if (!bad && image->dtype != ST_F32)
    bad = fail("%s: input 'image' must be F32, got %s", path, image->dtype_name);
  if (!bad) {
    memcpy(b->image, image->data, image->nbytes);
    bad = copy_labels(path, label, b->label);
  }
  st_free(&f);
  return bad;
}

/* ---- training ---- */

static void train(instance *m) {
  long i;
  for (i = 0; i < m->steps; ++i)
    m->losses[i] = mlp_fashion_train_step(m->params, m->state, m->feed->image, m->feed->label,
                                          MLP_FASHION_DEFAULT_LR, m->scratch);
}

/* Holds threads until every one exists, so that they truly run at the same time. */
typedef struct gate_s {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
} gate;

static void gate_open(gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void *train_thread(void *arg) {
  instance *m = (instance *)arg;
  pthread_mutex_lock(&m->start->mu);
  while (!m->start->open)
    pthread_cond_wait(&m->start->cv, &m->start->mu);
  pthread_mutex_unlock(&m->start->mu);
  train(m);
  return NULL;
}

static int instance_init(instance *m, const float *params, long steps, const batch *feed) {
  memset(m, 0, sizeof *m);
  m->params = (float *)alloc_aligned(MLP_FASHION_PARAMS_BYTES);
  m->state = (float *)alloc_aligned(MLP_FASHION_STATE_BYTES);
  m->scratch = alloc_aligned(SCRATCH_BYTES);
  m->losses = (float *)malloc((size_t)(steps > 0 ? steps : 1) * sizeof(float));
  m->steps = steps;
  m->feed = feed;
  if (!m->params || !m->state || !m->scratch || !m->losses)
    return fail("out of memory");
  memcpy(m->params, params, MLP_FASHION_PARAMS_BYTES);
  return 0;
}

static void instance_free(instance *m) {
  free(m->params);
  free(m->state);
  free(m->scratch);
  free(m->losses);
}

/* Whether the tensors of `table` (count entries) hold the same bits in a and b. */
static int same_bits(const gradc_tensor_desc *table, int count, const float *a, const float *b) {
  int i;
  for (i = 0; i < count; ++i)
    if (memcmp((const char *)a + table[i].offset, (const char *)b + table[i].offset,
               (size_t)table[i].numel * 4) != 0)
      return 0;
  return 1;
}

/* Trains `count` copies of `init` concurrently and checks each matches `ref` bit for bit. */
static int check_threads(int count, const float *init, const batch *feed, const instance *ref) {
  instance models[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  gate start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  int i, made = 0, running = 0, bad = 0;
  for (; made < count && !bad; ++made)
    bad = instance_init(&models[made], init, ref->steps, feed);
  for (i = 0; i < made && !bad; ++i) {
    models[i].start = &start;
    if (pthread_create(&tids[i], NULL, train_thread, &models[i]) != 0)
      bad = fail("pthread_create failed for thread %d", i);
    else
      ++running;
  }
  gate_open(&start); /* also on failure: the threads already made must finish */
  for (i = 0; i < running; ++i)
    pthread_join(tids[i], NULL);
  for (i = 0; i < made && !bad; ++i) {
    const instance *m = &models[i];
    if (memcmp(m->losses, ref->losses, (size_t)ref->steps * sizeof(float)) != 0 ||
        !same_bits(mlp_fashion_params, MLP_FASHION_NUM_PARAMS, m->params, ref->params) ||
        !same_bits(mlp_fashion_state, MLP_FASHION_NUM_STATE, m->state, ref->state))
      bad = fail("thread %d of %d: losses or parameters differ from the one-thread run", i, count);
  }
  for (i = 0; i < made; ++i)
    instance_free(&models[i]);
  if (!bad)
    printf("threads: %d concurrent instances match the one-thread run bit for bit\n", count);
  return bad;
}

/* ---- output ---- */

/* The same keys as `gradc run --out`: out.fc3 and loss of the first forward pass, and after
 * N >= 1 steps losses [N] and param.<name>. */
static int write_out(const char *path, const float *fc3, const float *loss, const instance *m) {
  st_entry entries[3 + MLP_FASHION_NUM_PARAMS];
  char names[MLP_FASHION_NUM_PARAMS][ST_MAX_NAME];
  char err[ST_ERR_LEN];
  int n = 0, i, d;
  memset(entries, 0, sizeof entries);
  entries[n].name = "out.fc3";
  entries[n].rank = 2;
  entries[n].shape[0] = BATCH;
  entries[n].shape[1] = NUM_CLASSES;
  entries[n++].data = fc3;
  entries[n].name = "loss";
  entries[n++].data = loss; /* rank 0 */
  if (m->steps > 0) {
    entries[n].name = "losses";
    entries[n].rank = 1;
    entries[n].shape[0] = m->steps;
    entries[n++].data = m->losses;
    for (i = 0; i < MLP_FASHION_NUM_PARAMS; ++i) {
      const gradc_tensor_desc *desc = &mlp_fashion_params[i];
      snprintf(names[i], sizeof names[i], "param.%s", desc->name);
      entries[n].name = names[i];
      entries[n].rank = desc->rank;
      for (d = 0; d < desc->rank; ++d)
        entries[n].shape[d] = desc->shape[d];
      entries[n++].data = (const char *)m->params + desc->offset;
    }
  }
  for (i = 0; i < n; ++i)
    entries[i].dtype = ST_F32;
  return st_write(path, entries, n, err) ? fail("%s", err) : 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Forward pass at the initial parameters, then `steps` training steps in this thread. */
static int run(const options *o, const float *init, const batch *feed, instance *m) {
  float *fc3 = (float *)alloc_aligned(OUT_NUMEL * sizeof(float));
  float loss;
  double t0;
  long i;
  int bad = 0;
  if (!fc3)
    return fail("out of memory");
  if (instance_init(m, init, o->steps, feed)) {
    free(fc3);
    return 1;
  }
  loss = mlp_fashion_forward(m->params, feed->image, feed->label, fc3, m->scratch);
  printf("forward: loss %.6f\n", loss);
  t0 = now_ms();
  train(m);
  for (i = 0; i < m->steps; ++i)
    printf("step %ld: loss %.6f\n", i, m->losses[i]);
  if (m->steps > 0)
    printf("trained %ld steps (lr %g) in %.1f ms\n", m->steps, (double)MLP_FASHION_DEFAULT_LR,
           now_ms() - t0);
  if (o->out)
    bad = write_out(o->out, fc3, &loss, m);
  if (!bad && o->save_raw)
    bad = save_params_raw(o->save_raw, m->params);
  free(fc3);
  return bad;
}

int main(int argc, char **argv) {
  options o;
  batch feed = {NULL, NULL};
  float *init = NULL;
  instance ref;
  int bad;
  memset(&ref, 0, sizeof ref);
  if (parse_args(argc, argv, &o))
    return 1;
  mlp_fashion_set_threads(o.kernel_threads); /* 0: every CPU, as without the call */
  if (!host_is_little_endian())
    return fail("safetensors data is little-endian; this host is not");
  feed.image = (float *)alloc_aligned(IMAGE_NUMEL * sizeof(float));
  feed.label = (int32_t *)alloc_aligned(BATCH * sizeof(int32_t));
  init = (float *)alloc_aligned(MLP_FASHION_PARAMS_BYTES);
  bad = !feed.image || !feed.label || !init ? fail("out of memory") : 0;
  if (!bad)
    bad = o.weights ? load_params_st(o.weights, init) : load_params_raw(o.raw, init);
  if (!bad)
    bad = load_feed(o.feed, &feed);
  if (!bad)
    bad = run(&o, init, &feed, &ref);
  if (!bad && o.threads > 1)
    bad = check_threads(o.threads, init, &feed, &ref);
  instance_free(&ref);
  free(init);
  free(feed.image);
  free(feed.label);
  return bad;
}
