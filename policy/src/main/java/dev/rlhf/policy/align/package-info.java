/**
 * Loss and advantage building blocks for alignment beyond PPO: DPO and IPO on preference pairs
 * ({@link dev.rlhf.policy.align.DpoLoss}, {@link dev.rlhf.policy.align.IpoLoss}), RLOO and GRPO on groups of
 * completions per prompt ({@link dev.rlhf.policy.align.RlooAdvantages}, {@link dev.rlhf.policy.align.GrpoAdvantages},
 * {@link dev.rlhf.policy.align.GrpoLoss}), with {@link dev.rlhf.policy.align.SequenceLogprobs} and
 * {@link dev.rlhf.policy.align.KlEstimators} underneath, and {@link dev.rlhf.policy.align.GroupPolicyLearner}, the
 * online learner that runs GRPO or RLOO on batches of such groups. Conventions, shared with {@code dev.rlhf.policy.ppo}:
 * <ul>
 *   <li>per-token arrays are {@code [batch, time]} float32 over the response tokens, with a float mask that is
 *       non-zero (1) on real response tokens; sequence arrays are {@code [batch]};</li>
 *   <li>padded positions are selected away with {@code where(mask != 0, x, 0)} before any arithmetic, never
 *       multiplied by the mask, so garbage there (NaN and infinity included) changes neither a value nor a
 *       gradient, and the gradient reaching a padded position is exactly 0;</li>
 *   <li>numbers in differentiable arithmetic go through {@link dev.rlhf.policy.model.TorchOps#scalar};</li>
 *   <li>every intermediate and result is created in the manager of the input it derives from: create a step's
 *       inputs in that step's sub-manager, as {@code PpoUpdater} does, and close it after the optimiser step;</li>
 *   <li>per-sequence advantages are few and carry no gradient, so they are computed on Java {@code double[]},
 *       with the completions of one prompt side by side ({@code rewards[g * groupSize + i]}).</li>
 * </ul>
 */
package dev.rlhf.policy.align;
