/* Evaluation: build the tape of unevaluated ops (iteratively: graphs of
 * 10^6 nodes must not overflow the stack), run each op's kernel on its
 * device, then detach the outputs so the graph behind them is released as
 * the tape advances. One evaluation runs at a time (a global lock), so
 * several threads may build graphs and evaluate concurrently. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

static pthread_mutex_t eval_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t generation;

typedef struct {
  mlx_op_* op;
  int next;
} frame;

typedef struct {
  void** items;
  size_t n, cap;
} vec;

static int vec_push(vec* v, void* item, size_t elem) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 256;
    void* items = realloc(v->items, cap * elem);
    if (!items) return mlx_error_(MLX_ERROR_MEMORY, "[eval] out of memory building the tape");
    v->items = items;
    v->cap = cap;
  }
  memcpy((char*)v->items + v->n * elem, item, elem);
  v->n++;
  return MLX_OK;
}

/* Appends to tape every unevaluated op the roots depend on, inputs first. */
static int build_tape(vec* tape, mlx_node_* const* roots, size_t nroots, uint64_t gen) {
  vec stack = {0};
  int rc = MLX_OK;
  for (size_t r = 0; r < nroots && rc == MLX_OK; r++) {
    if (mlx_node_evaluated_(roots[r])) continue;
    mlx_op_* op = atomic_load(&roots[r]->op);
    if (!op || op->visit == gen) continue;
    op->visit = gen;
    frame f = {op, 0};
    if ((rc = vec_push(&stack, &f, sizeof f))) break;
    while (stack.n) {
      frame* top = (frame*)stack.items + (stack.n - 1);
      if (top->next < top->op->ninputs) {
        mlx_node_* in = top->op->inputs[top->next++];
        mlx_op_* iop = mlx_node_evaluated_(in) ? NULL : atomic_load(&in->op);
        if (iop && iop->visit != gen) {
          iop->visit = gen;
          frame g = {iop, 0};
          if ((rc = vec_push(&stack, &g, sizeof g))) break;
        }
      } else {
        mlx_op_* done = top->op;
        stack.n--;
        if ((rc = vec_push(tape, &done, sizeof done))) break;
      }
    }
  }
  free(stack.items);
  return rc;
}

/* Collects the op's output nodes, taking a reference on each live one;
 * outputs that died are replaced by scratch nodes (marked in scratch[]). */
static int gather_outputs(mlx_op_* op, mlx_node_** outs, char* scratch) {
  if (op->lock) pthread_mutex_lock(op->lock);
  for (int i = 0; i < op->noutputs; i++) {
    mlx_node_* n = op->outputs[i];
    scratch[i] = 0;
    if (n) {
      int c = atomic_load(&n->refcount);
      while (c > 0 && !atomic_compare_exchange_weak(&n->refcount, &c, c + 1)) {
      }
      if (c > 0) {
        outs[i] = n;
        continue;
      }
    }
    outs[i] = NULL;
  }
  if (op->lock) pthread_mutex_unlock(op->lock);
  for (int i = 0; i < op->noutputs; i++) {
    if (outs[i]) continue;
    /* A sibling that died before evaluation: compute into a scratch node
     * made from the descriptor the op kept. */
    outs[i] = mlx_node_new_(op->out_dtypes[i], op->out_shapes[i], op->out_ndims[i]);
    if (!outs[i]) {
      for (int j = 0; j < i; j++) mlx_node_release_(outs[j]);
      return mlx_last_error_code();
    }
    scratch[i] = 1;
  }
  return MLX_OK;
}

/* Node n, computed by op, is evaluated: it drops its op reference (the
 * last one frees the op and with it the references to the inputs), except
 * a tracer, which keeps its graph for the transform tracing it. */
static void mark_computed(mlx_node_* n, mlx_op_* op) {
  atomic_store_explicit(&n->evaluated, 1, memory_order_release);
  if (!mlx_keeps_graph_(n)) {
    atomic_store(&n->op, NULL);
    mlx_op_release_(op);
  }
}

#ifdef MLX_HAVE_CUDA
/* The profile's rows of the fused products. */
static const mlx_prim_ prim_addmm_fused = {.name = "addmm (fused)"};
static const mlx_prim_ prim_addmm_act_fused = {.name = "addmm+activation (fused)"};

/* The input of op that producer did not make. */
static mlx_node_* other_input(const mlx_op_* op, const mlx_op_* producer) {
  return atomic_load(&op->inputs[0]->op) == producer ? op->inputs[1] : op->inputs[0];
}
#endif

/* Runs op's kernel, or with mm (a skipped matmul) the fused product
 * mlx_cuda_addmm_: op is the add reading mm's output (add NULL), or the
 * activation act reading the skipped add that reads it. *declined is
 * then set when that kernel turned them down, nothing run. */
static int run_op_with(mlx_op_* op, const mlx_op_* mm, mlx_op_* add, int act, int keep_pre, int* declined) {
  int nout = op->noutputs;
  mlx_node_* outs[nout];
  char scratch[nout];
  MLX_TRY(gather_outputs(op, outs, scratch));
  mlx_kernel_fn_ k = op->stream.device.type == MLX_GPU ? op->prim->gpu : op->prim->cpu;
  const mlx_prim_* prim = op->prim;
  mlx_node_** ins = op->inputs;
  int nin = op->ninputs;
  const void* params = op->params;
#ifdef MLX_HAVE_CUDA
  mlx_cuda_addmm_params_ fp = {act, 0, keep_pre && add ? add->outputs[0] : NULL};
  mlx_node_* fused_ins[3];
  if (mm) {
    fused_ins[0] = mm->inputs[0];
    fused_ins[1] = mm->inputs[1];
    fused_ins[2] = other_input(add ? add : op, mm);
    k = mlx_cuda_addmm_;
    prim = add ? &prim_addmm_act_fused : &prim_addmm_fused;
    ins = fused_ins;
    nin = 3;
    params = &fp;
  }
#else
  (void)mm, (void)add, (void)act, (void)keep_pre;
#endif
  int rc = MLX_OK;
#ifdef MLX_HAVE_CUDA
  /* A CPU kernel reads host copies: make them current where a GPU kernel
   * wrote the inputs (waiting for it). */
  if (k && op->stream.device.type != MLX_GPU)
    for (int i = 0; i < op->ninputs && rc == MLX_OK; i++) rc = mlx_cuda_host_sync_(op->inputs[i]);
#endif
  if (rc == MLX_OK && !k)
    rc = mlx_error_(MLX_ERROR_UNSUPPORTED, "[%s] not implemented on %s", op->prim->name,
                    op->stream.device.type == MLX_GPU ? "gpu" : "cpu");
  else if (rc == MLX_OK && mlx_profile_on_())
    rc = mlx_profile_run_(prim, k, outs, nout, ins, nin, params);
  else if (rc == MLX_OK)
    rc = k(outs, nout, ins, nin, params);
#ifdef MLX_HAVE_CUDA
  if (rc == MLX_OK && mm && !fp.done) {
    *declined = 1;
    for (int i = 0; i < nout; i++) mlx_node_release_(outs[i]);
    return MLX_OK;
  }
  /* The kernel stored the add's output too: the add (with the product it
   * read) detaches. */
  if (rc == MLX_OK && fp.pre) mark_computed(fp.pre, add);
#else
  (void)declined;
#endif
  if (rc) {
    for (int i = 0; i < nout; i++) {
      if (outs[i]->buf) {
        mlx_buffer_release_(outs[i]->buf);
        outs[i]->buf = NULL;
      }
      mlx_node_release_(outs[i]);
    }
    return rc;
  }
  for (int i = 0; i < nout; i++)
    if (!scratch[i]) mark_computed(outs[i], op);
  for (int i = 0; i < nout; i++) mlx_node_release_(outs[i]);
  return MLX_OK;
}

static int run_op(mlx_op_* op) {
  return run_op_with(op, NULL, NULL, 0, 0, NULL);
}

#ifdef MLX_HAVE_CUDA
/* Op i of the tape, planned to run with its producers fused in: the
 * fused kernel, or when it declines the producers then op. */
static int run_fused(mlx_op_** tape, const mlx_cuda_fusion_* plan, int i) {
  int p = plan[i].producer, declined = 0;
  if (plan[i].act) {
    int m = plan[p].producer;
    MLX_TRY(run_op_with(tape[i], tape[m], tape[p], plan[i].act, plan[i].keep_pre, &declined));
    if (!declined) return MLX_OK;
    MLX_TRY(run_fused(tape, plan, p));
    return run_op(tape[i]);
  }
  MLX_TRY(run_op_with(tape[i], tape[p], NULL, 0, 0, &declined));
  if (!declined) return MLX_OK;
  MLX_TRY(run_op(tape[p]));
  return run_op(tape[i]);
}

static const mlx_prim_ prim_elementwise_run = {.name = "elementwise run (fused)"};

/* Ops tape[first..last] (a planned run of elementwise ops) as one kernel,
 * or one by one when it declines. The outputs it stored are evaluated
 * and their ops detach; the others (read only inside the run) are
 * released with the ops that read them. */
static int run_group(mlx_op_** tape, int first, int last) {
  int n = last - first + 1, declined = 0;
  unsigned char escapes[n];
  mlx_node_* held[n];
  for (int k = 0; k < n; k++) {
    held[k] = tape[first + k]->outputs[0];
    mlx_node_retain_(held[k]);
  }
  int64_t t0 = mlx_profile_on_() ? mlx_profile_now_() : 0;
  int rc = mlx_cuda_run_group_(tape + first, n, escapes, &declined);
  if (rc == MLX_OK && !declined && mlx_profile_on_()) mlx_profile_add_(&prim_elementwise_run, t0, tape[first]->stream);
  for (int k = 0; k < n && rc == MLX_OK && !declined; k++)
    if (escapes[k]) mark_computed(held[k], tape[first + k]);
  for (int k = 0; k < n; k++) mlx_node_release_(held[k]);
  if (rc == MLX_OK && declined)
    for (int k = first; k <= last && rc == MLX_OK; k++) rc = run_op(tape[k]);
  return rc;
}
#endif

/* Op i of the tape as planned (plan NULL: every op runs as usual). */
static int run_planned(mlx_op_** tape, const void* plan, size_t i) {
#ifdef MLX_HAVE_CUDA
  const mlx_cuda_fusion_* f = plan;
  if (f && (f[i].role == 1 || f[i].role == 3)) return MLX_OK;
  if (f && f[i].role == 2) return run_fused(tape, f, (int)i);
  if (f && f[i].role == 4) return run_group(tape, f[i].producer, (int)i);
#else
  (void)plan;
#endif
  return run_op(tape[i]);
}

/* Evaluation returns with its arrays computed, as upstream's: the GPU
 * kernels that wrote them have finished. */
static int wait_ready(mlx_node_* const* nodes, size_t n) {
#ifdef MLX_HAVE_CUDA
  return mlx_cuda_wait_ready_(nodes, n);
#else
  (void)nodes, (void)n;
  return MLX_OK;
#endif
}

/* Runs the ops nodes need; with wait (all but async_eval's worker),
 * returns once the GPU has computed them. */
static int eval_nodes_(mlx_node_* const* nodes, size_t n, const volatile int* cancel, int wait) {
  int pending = 0;
  for (size_t i = 0; i < n; i++)
    if (!mlx_node_evaluated_(nodes[i])) pending = 1;
  if (!pending) return wait ? wait_ready(nodes, n) : MLX_OK;
  pthread_mutex_lock(&eval_lock);
  uint64_t gen = ++generation;
  vec tape = {0};
  int rc = build_tape(&tape, nodes, n, gen);
  void* plan = NULL;
#ifdef MLX_HAVE_CUDA
  mlx_cuda_fusion_* f = NULL;
  if (rc == MLX_OK && tape.n > 1 && tape.n <= INT_MAX && (f = malloc(tape.n * sizeof *f)) &&
      !mlx_cuda_plan_fusions_((mlx_op_* const*)tape.items, (int)tape.n, f)) {
    free(f);
    f = NULL;
  }
  plan = f;
#endif
  for (size_t i = 0; i < tape.n && rc == MLX_OK; i++) {
    if (cancel && *cancel) {
      rc = mlx_error_(MLX_ERROR_INTERRUPTED, "[eval] interrupted");
      break;
    }
    rc = run_planned((mlx_op_**)tape.items, plan, i);
  }
  pthread_mutex_unlock(&eval_lock);
  free(plan);
  free(tape.items);
  return rc == MLX_OK && wait ? wait_ready(nodes, n) : rc;
}

static int eval_nodes(mlx_node_* const* nodes, size_t n, const volatile int* cancel) {
  return eval_nodes_(nodes, n, cancel, 1);
}

static int eval_handles(const mlx_array* arrays, size_t n, const volatile int* cancel) {
  mlx_node_* small[16];
  mlx_node_** nodes = n <= 16 ? small : malloc(n * sizeof *nodes);
  if (!nodes) return mlx_error_(MLX_ERROR_MEMORY, "[eval] out of memory");
  int rc = MLX_OK;
  for (size_t i = 0; i < n && rc == MLX_OK; i++) {
    rc = mlx_check_array_(arrays[i], "eval");
    nodes[i] = MLX_NODE(arrays[i]);
  }
  if (rc == MLX_OK) rc = eval_nodes(nodes, n, cancel);
  if (nodes != small) free(nodes);
  return rc;
}

int mlx_eval(const mlx_array* arrays, size_t n) {
  return eval_handles(arrays, n, NULL);
}

int mlx_eval_cancellable(const mlx_array* arrays, size_t n, const volatile int* cancel) {
  return eval_handles(arrays, n, cancel);
}

int mlx_eval_node_(mlx_node_* node) {
  return eval_nodes(&node, 1, NULL);
}

/* ---- asynchronous evaluation: one worker thread with a FIFO of jobs ---- */
typedef struct job {
  struct job* next;
  size_t n;
  mlx_node_* nodes[];
} job;

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static job *q_head, *q_tail;
static int outstanding;
static int worker_started;

static void* async_worker(void* arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (!q_head) pthread_cond_wait(&q_cv, &q_lock);
    job* j = q_head;
    q_head = j->next;
    if (!q_head) q_tail = NULL;
    pthread_mutex_unlock(&q_lock);
    /* An error here is not lost: the arrays stay unevaluated, and reading
     * them evaluates again and reports it. */
    eval_nodes_(j->nodes, j->n, NULL, 0);
    for (size_t i = 0; i < j->n; i++) mlx_node_release_(j->nodes[i]);
    free(j);
    pthread_mutex_lock(&q_lock);
    if (--outstanding == 0) pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&q_lock);
  }
  return NULL;
}

int mlx_async_eval(const mlx_array* arrays, size_t n) {
  for (size_t i = 0; i < n; i++) MLX_TRY(mlx_check_array_(arrays[i], "async_eval"));
  job* j = malloc(sizeof *j + n * sizeof(mlx_node_*));
  if (!j) return mlx_error_(MLX_ERROR_MEMORY, "[async_eval] out of memory");
  j->next = NULL;
  j->n = n;
  for (size_t i = 0; i < n; i++) {
    j->nodes[i] = MLX_NODE(arrays[i]);
    mlx_node_retain_(j->nodes[i]);
  }
  pthread_mutex_lock(&q_lock);
  if (!worker_started) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&t, &attr, async_worker, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
      pthread_mutex_unlock(&q_lock);
      /* No worker thread: evaluate synchronously instead. */
      int rc = eval_nodes(j->nodes, n, NULL);
      for (size_t i = 0; i < n; i++) mlx_node_release_(j->nodes[i]);
      free(j);
      return rc;
    }
    worker_started = 1;
  }
  if (q_tail) q_tail->next = j;
  else q_head = j;
  q_tail = j;
  outstanding++;
  pthread_cond_signal(&q_cv);
  pthread_mutex_unlock(&q_lock);
  return MLX_OK;
}

int mlx_eval_wait_idle_(void) {
  pthread_mutex_lock(&q_lock);
  while (outstanding > 0) pthread_cond_wait(&idle_cv, &q_lock);
  pthread_mutex_unlock(&q_lock);
  return MLX_OK;
}
