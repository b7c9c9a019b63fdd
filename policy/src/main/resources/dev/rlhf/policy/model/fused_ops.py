# TorchScript source of FusedOps, compiled by libtorch when the Java side loads it (no Python runs this file).
# It reaches ATen kernels that DJL's JNI does not expose; each method is one call from Java. DJL runs `forward`
# under the caller's autograd mode and every other method without autograd, so `forward` holds the one op that
# training differentiates through.
class FusedOps(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  def forward(self: __torch__.FusedOps, x: Tensor) -> Tensor:
    return torch.gelu(x, approximate="tanh")
  def gradient_norm(self: __torch__.FusedOps, grads: List[Tensor]) -> Tensor:
    return torch.linalg_vector_norm(torch.stack(torch._foreach_norm(grads, 2)), 2)
  def adamw_step(self: __torch__.FusedOps,
      params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor],
      step: Tensor, lr: float, beta1: float, beta2: float, weight_decay: float, eps: float,
      grad_scale: float) -> None:
    if grad_scale != 1.0:
      torch._foreach_mul_(grads, grad_scale)
    # the fused kernel reads one step count per tensor; all tensors are at the same step
    steps = [step for _ in range(len(params))]
    torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, annotate(List[Tensor], []), steps,
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
    torch._foreach_zero_(grads)
