#!/usr/bin/env bash
# Mutation testing, run by hand (not in CI): each mutation below is a small sed edit that puts a
# realistic bug into the sources; the tests relevant to it must then fail. Every mutation must be
# caught. A new pass, kernel or checker adds its own mutation to the list.
#
# It works in a scratch git worktree (default /tmp/gradc-mutation, build dir build/ in it, reused
# across runs) checked out at this worktree's HEAD, so commit first. For each mutation it
# applies the edit, rebuilds incrementally (ninja TARGETS), runs `ctest -R TESTS`, records the
# tests that failed and reverts the edit with git checkout. Usage:
#   bash tests/mutation/run.sh [--scratch DIR] [--jobs N] [MUTATION-ID...]
# Prints a table (mutation | tests run | caught by) and exits 1 if a mutation survives, does not
# apply or breaks the build.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scratch=/tmp/gradc-mutation
jobs=2
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
  --scratch) scratch="$2"; shift 2 ;;
  --jobs) jobs="$2"; shift 2 ;;
  -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
  *) only+=("$1"); shift ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# The mutations: mut ID FILE SED-SCRIPT NINJA-TARGETS CTEST-REGEX
# SED-SCRIPT is a GNU sed (basic regex) script applied with sed -i; it must change FILE.
ids=() files=() scripts=() targets=() tests=()
mut() { ids+=("$1") files+=("$2") scripts+=("$3") targets+=("$4") tests+=("$5"); }

E2E_TRAIN='^e2e\.[a-z0-9_]+\.train3$'           # JIT, gradients and 3 steps vs PyTorch
E2E_FWD='^e2e\.[a-z0-9_]+\.forward$'             # JIT, forward vs PyTorch
E2E_INTERP='^e2e\.[a-z0-9_]+\.interp\.(forward|train3)$'
FASHION_TRAIN='^e2e\.(mlp_fashion|cnn_fashion|our_cnn)\.train3$'
CHECKERS='^(tools_compare_cli_test\.|checkers\.)'

# Gradient rules (passes/grad_rules.cpp): sign flips and wrong derivatives.
mut grad.sigmoid_sign passes/grad_rules.cpp \
  's/c.mul(c.y(), c.affine(c.y(), -1, 1))/c.mul(c.y(), c.affine(c.y(), 1, -1))/' gradc "$E2E_TRAIN"
mut grad.sub_rhs_sign passes/grad_rules.cpp \
  's/c.setDx(1, c.affine(c.dy(), -1));/c.setDx(1, c.affine(c.dy(), 1));/' gradc "$E2E_TRAIN"
mut grad.tanh_formula passes/grad_rules.cpp \
  's/c.affine(c.mul(c.y(), c.y()), -1, 1)/c.affine(c.y(), -1, 1)/' gradc "$E2E_TRAIN"
mut grad.leaky_relu_slope passes/grad_rules.cpp \
  's/{{"low", c.attrs().f("slope")}, {"high", 1.0}}/{{"low", 0.0}, {"high", 1.0}}/' gradc \
  "$E2E_TRAIN"
mut grad.log_softmax_sign passes/grad_rules.cpp \
  's/c.setDx(0, c.op(OpKind::Sub, {c.dy(), c.mul(c.op(OpKind::Exp/c.setDx(0, c.op(OpKind::Add, {c.dy(), c.mul(c.op(OpKind::Exp/' \
  gradc "$E2E_TRAIN"
mut grad.matmul_rhs_sign passes/grad_rules.cpp \
  's/c.setDx(1, tb ? mm(c.dy(), c.x(0), true, ta) : mm(c.x(0), c.dy(), !ta, false));/c.setDx(1, c.affine(tb ? mm(c.dy(), c.x(0), true, ta) : mm(c.x(0), c.dy(), !ta, false), -1));/' \
  gradc "$E2E_TRAIN"

# Optimizer formulas (passes/optimizer.cpp).
mut opt.adam_bias1_old_step passes/optimizer.cpp \
  's/ValueId bc1 = b.affine(b.pow(o.beta1, t), -1, 1);/ValueId bc1 = b.affine(b.pow(o.beta1, b.affine(t, 1, 1)), -1, 1);/' \
  gradc "$E2E_TRAIN|^ir\\.optimizer_adam$"
mut opt.adam_bias2_no_sqrt passes/optimizer.cpp \
  's/ValueId bc2_sqrt = b.unary(OpKind::Sqrt, b.affine(b.pow(o.beta2, t), -1, 1));/ValueId bc2_sqrt = b.affine(b.pow(o.beta2, t), -1, 1);/' \
  gradc "$E2E_TRAIN|^ir\\.optimizer_adam$"
mut opt.adam_v_beta1 passes/optimizer.cpp \
  's/b.affine(g2, 1 - o.beta2)/b.affine(g2, 1 - o.beta1)/' gradc "$E2E_TRAIN|^ir\\.optimizer_adam$"
mut opt.sgd_nesterov_ignored passes/optimizer.cpp \
  's/g = o.nesterov ? b.bin(OpKind::Add, g, b.affine(buf, o.momentum)) : buf;/g = buf;/' gradc \
  "$E2E_TRAIN"
mut opt.sgd_weight_decay_sign passes/optimizer.cpp \
  '/^void buildSgd/,/^}/ s/b.affine(p, o.weight_decay)/b.affine(p, -o.weight_decay)/' gradc \
  "$E2E_TRAIN"
mut opt.skip_large_params passes/optimizer.cpp \
  's/if (m.params\[i\].trained)/if (m.params[i].trained \&\& m.params[i].type.numElements() <= 50000)/' \
  gradc "$FASHION_TRAIN"

# Window lowering: off-by-ones in the JIT (codegen/) and the interpreter (runtime/).
mut jit.window_padding_off_by_one codegen/emit_window.cpp \
  's/c.i64(pad\[d\]))/c.i64(pad[d] + 1))/' gradc "$E2E_FWD"
mut jit.window_stride_off_by_one codegen/emit_window.cpp \
  's/b.CreateMul(o, c.i64(stride\[d\]))/b.CreateMul(o, c.i64(stride[d] > 1 ? stride[d] - 1 : 1))/' \
  gradc "$E2E_FWD"
mut interp.pool_window_off_by_one runtime/interp_window.cpp \
  's/int64_t iy = oy \* g.sh - g.ph + ky;/int64_t iy = oy * g.sh - g.ph + ky + 1;/' gradc "$E2E_INTERP"
mut interp.conv_dilation_ignored runtime/interp_window.cpp \
  's/int64_t iy = oy \* g.sh - g.ph + ky \* g.dh;/int64_t iy = oy * g.sh - g.ph + ky;/' gradc \
  "$E2E_INTERP"

# Tensor files: writer and reader faults (runtime/safetensors.cpp).
mut io.writer_drops_last_tensor runtime/safetensors.cpp \
  's/^Status writeSafetensors(const std::string &path, const TensorMap &tensors) {$/Status writeSafetensors(const std::string \&path, const TensorMap \&all) {\n  TensorMap tensors = all;\n  if (tensors.size() > 1)\n    tensors.erase(std::prev(tensors.end()));/' \
  gradc "$E2E_FWD"
mut io.reader_drops_last_element runtime/safetensors.cpp \
  's/for (int64_t i = 0; i < e.numElements; ++i) {/for (int64_t i = 0; i + 1 < e.numElements; ++i) {/' \
  gradc "$E2E_FWD"

# Learning-rate schedules: the header's C code (NaN past t_max, as in the issue) and the runtime.
mut sched.header_cosine_nan codegen/header.cpp \
  's/"      lr = (1 + cos(pi \* e \/ t))/"      lr = e > t ? nan(\\"\\") : (1 + cos(pi * e \/ t))/' \
  gradc '^aot\.schedule\.'
mut sched.header_step_off_by_one codegen/header.cpp \
  's/if (e %% %lld == 0)/if ((e + 1) %% %lld == 0)/' \
  gradc '^aot\.schedule\.'
mut sched.runtime_step_off_by_one runtime/schedule.cpp \
  's|double(epoch / s.step_size)|double((epoch + 1) / s.step_size)|' gradc_passes_test \
  '^gradc_passes_test\..*[Ss]chedule'

# Untrusted input (support/, tools/): the checks of the reliability issue.
mut rel.json_duplicate_keys_accepted support/json_text.cpp \
  's/if (f.keys.insert(k).second)/if (true || f.keys.insert(k).second)/' gradc '^error\.'
mut rel.json_nul_accepted support/json_text.cpp \
  's/if (const void \*nul = std::memchr(text.data(), .\\0., text.size()))/if (const void *nul = nullptr)/' \
  gradc '^error\.'
mut rel.output_may_be_an_input support/files.cpp \
  's/if (!in.path.empty() \&\& sameFile(out.path, in.path))/if (false)/' gradc '^error\.'
mut rel.messages_not_escaped tools/gradc.cpp \
  's/support::escaped(message).c_str()/message.c_str()/' gradc '^error\.'
mut rel.model_read_unbounded frontend/model_json.cpp \
  's/kMaxModelFileBytes));/uint64_t(1) << 62));/' gradc '^error\.'

# Simplification passes (passes/, ir/rewrite.cpp): the FileCheck tests of gradc opt, the
# interpreter oracle (Simplify.*) and the training goldens.
SIMPLIFY="^ir\\.opt_|^gradc_passes_test\\.Simplify\\.|$E2E_TRAIN"
mut cse.ignores_attributes ir/rewrite.cpp \
  's/if (ia->first != ib->first || !sameAttr(ia->second, ib->second))/if (false)/; s/^    mixAttr(h, v);/    (void)v;/' \
  "gradc gradc_passes_test" "$SIMPLIFY"
mut algebraic.compose_shift_unscaled passes/algebraic.cpp \
  's/shift = inner->attrs.f("shift") \* scale + shift;/shift = inner->attrs.f("shift") + shift;/' \
  "gradc gradc_passes_test" "$SIMPLIFY"
mut algebraic.plus_zero_is_identity passes/algebraic.cpp \
  's/if (scale == 1.0 \&\& isNegativeZero(shift))/if (scale == 1.0 \&\& shift == 0.0)/' \
  "gradc gradc_passes_test" "$SIMPLIFY"

# Fusion and the execution plan (passes/fuse.cpp, plan/plan.cpp).
PLAN='^(gradc_plan_test\.|ir\.opt_fusion$|e2e\.[a-z0-9_]+\.train3$)'
mut fusion.no_epilogues passes/fuse.cpp \
  's/if (!(open != Open::None \&\& s == shape \&\& reads_open))/if (!(open == Open::Chain \&\& s == shape \&\& reads_open))/' \
  gradc "$PLAN"
mut plan.inplace_over_live_operand plan/plan.cpp \
  's/bool fits = b.end == int32_t(ki) \&\&/bool fits = b.end >= int32_t(ki) \&\&/' \
  'gradc gradc_plan_test' "$PLAN"
mut plan.update_before_last_read plan/plan.cpp \
  's/legal = legal \&\& kernelOfNode(p.kernels, u) <= vp.kernel;/legal = legal || u < 0;/' \
  'gradc gradc_plan_test' "$PLAN"
mut plan.live_ranges_touching_share plan/plan.cpp \
  's/if (bufs\[j\].start <= b.end \&\& b.start <= bufs\[j\].end)/if (bufs[j].start < b.end \&\& b.start < bufs[j].end)/' \
  'gradc gradc_plan_test' "$PLAN"

# The packed GEMM and the implicit-GEMM convolutions (codegen/emit_gemm.cpp).
GEMM='^(codegen_gemm_test\.|e2e\.[a-z0-9_]+\.(forward|train3)$)'
mut gemm.last_column_dropped codegen/emit_gemm.cpp \
  's/b.CreateICmpSLT(col, c.i64(n))/b.CreateICmpSLT(col, c.i64(n - 1))/' \
  'gradc codegen_gemm_test' "$GEMM"
mut gemm.first_vector_only codegen/emit_gemm.cpp \
  's/{splat, bvec\[size_t(v)\], b.CreateLoad(vecTy, x)}/{splat, bvec[0], b.CreateLoad(vecTy, x)}/' \
  'gradc codegen_gemm_test' "$GEMM"
mut conv.padding_sign codegen/emit_gemm.cpp \
  's/b.CreateSub(b.CreateMul(o, c.i64(stride\[d\])), c.i64(pad\[d\]))/b.CreateAdd(b.CreateMul(o, c.i64(stride[d])), c.i64(pad[d]))/' \
  'gradc codegen_gemm_test' "$GEMM"

# The checkers themselves, made to pass what they should not.
mut check.compare_always_passes tools/cmd_tensors.cpp \
  's/return r->ok() ? 0 : 1;/return 0;/' gradc "$CHECKERS"
mut check.compare_nan_passes driver/tensors.cpp \
  's/if (!std::isfinite(x) || !std::isfinite(y)) {/if (false) {/; s/if (!(err <= tol.atol + tol.rtol \* ref))/if (err > tol.atol + tol.rtol * ref)/' \
  gradc "$CHECKERS"
mut check.compare_no_scale_check driver/tensors.cpp \
  's/bool scale_bad = tol.scale_rtol >= 0/bool scale_bad = false \&\& tol.scale_rtol >= 0/' gradc \
  "$CHECKERS"
mut check.compare_ignores_dtype driver/tensors.cpp \
  's/if (e.type.dtype != a.type.dtype) {/if (false) {/' gradc "$CHECKERS"
mut check.numbers_match_always_passes tests/e2e/checkers/numbers_match.sh \
  's/END { exit bad }/END { exit 0 }/' gradc "$CHECKERS|^aot\\.schedule\\."
mut check.expect_error_ignores_status tests/error/expect_error.sh \
  's/if \[ "\$status" -ne "\$want_status" \]; then/if false; then/' gradc '^checkers\.expect_error$'
mut check.filecheck_always_passes tests/ir/run_check.sh \
  's/^gradc=\$1 filecheck=\$2 test=\$3 root=\$4$/gradc=$1 filecheck=true test=$3 root=$4/' gradc \
  '^ir\.'
# ---------------------------------------------------------------------------------------------

log() { printf '%s\n' "$*" >&2; }

# The scratch worktree, at this worktree's HEAD, with a configured build directory.
head="$(git -C "$src" rev-parse HEAD)"
if ! git -C "$scratch" rev-parse --git-dir >/dev/null 2>&1; then
  log "== creating scratch worktree $scratch"
  git -C "$src" worktree add --detach "$scratch" "$head" >&2
fi
git -C "$scratch" checkout -q -- .
git -C "$scratch" checkout -q --detach "$head"
if [[ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]]; then
  log "note: uncommitted changes in $src are not in the scratch worktree (it is at HEAD)"
fi
build="$scratch/build"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$scratch" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADC_WERROR=OFF >&2
fi
log "== baseline build and test list"
ninja -C "$build" -j "$jobs" >&2

rows=() bad=0
for i in "${!ids[@]}"; do
  id="${ids[$i]}" file="${files[$i]}"
  if [[ ${#only[@]} -gt 0 && ! " ${only[*]} " =~ " $id " ]]; then
    continue
  fi
  log "== $id ($file)"
  git -C "$scratch" checkout -q -- .
  sed -i -e "${scripts[$i]}" "$scratch/$file"
  if git -C "$scratch" diff --quiet -- "$file"; then
    rows+=("| $id | $file | - | NOT APPLIED (the sed script no longer matches) |")
    bad=1
    continue
  fi
  git -C "$scratch" diff -- "$file" | sed -n 's/^[-+][^-+]/  &/p' >&2
  # shellcheck disable=SC2086
  if ! ninja -C "$build" -j "$jobs" ${targets[$i]} >"$build/mutation.build.log" 2>&1; then
    tail -n 20 "$build/mutation.build.log" >&2
    rows+=("| $id | $file | - | BUILD FAILED (fix the mutation: it must compile) |")
    bad=1
    git -C "$scratch" checkout -q -- .
    continue
  fi
  out="$build/mutation.$id.log"
  ctest --test-dir "$build" -R "${tests[$i]}" -j "$jobs" --timeout 300 >"$out" 2>&1 || true
  total="$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$out" | tail -n1)"
  failed=()
  while IFS= read -r t; do failed+=("$t"); done < <(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' "$out")
  run="${total:-0} (\`${tests[$i]//|/\\|}\`)"
  if [[ ${#failed[@]} -eq 0 ]]; then
    rows+=("| $id | $file | $run | **SURVIVED** |")
    bad=1
  else
    shown="${failed[*]:0:3}"
    shown="${shown// /, }"
    [[ ${#failed[@]} -gt 3 ]] && shown="$shown +$((${#failed[@]} - 3)) more"
    rows+=("| $id | $file | $run | ${#failed[@]}: $shown |")
  fi
  log "   ${rows[-1]}"
  git -C "$scratch" checkout -q -- .
done
# Leave the scratch build matching HEAD again.
ninja -C "$build" -j "$jobs" >/dev/null 2>&1 || true

echo "| mutation | file | tests run | caught by (failed tests) |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
exit $bad
