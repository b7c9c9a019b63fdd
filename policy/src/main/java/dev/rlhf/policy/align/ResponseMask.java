package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import dev.rlhf.policy.model.TorchOps;

/**
 * Masking shared by this package. A padded position is selected away with {@code where(mask != 0, x, 0)}, never
 * multiplied by the mask: {@code NaN * 0} and {@code inf * 0} are NaN, and the backward pass of a product reads
 * the other factor, so a product would let garbage in padded positions reach the loss or the gradient. The
 * backward pass of {@code where} sends the incoming gradient to the selected positions and exact zeros elsewhere.
 */
final class ResponseMask {
    private ResponseMask() {}

    /** {@code values} where {@code mask} is non-zero, 0 elsewhere; same shape and manager as {@code values}. */
    static NDArray select(NDArray values, NDArray mask) {
        return NDArrays.where(keep(mask), values, TorchOps.scalar(values, 0f));
    }

    /** Boolean {@code mask != 0}. */
    static NDArray keep(NDArray mask) {
        return mask.neq(TorchOps.scalar(mask, 0f));
    }

    /** Masked positions per row, {@code [batch]}, of {@code like}'s type; at least 1 so that a mean of none is 0. */
    static NDArray countPerRow(NDArray mask, NDArray like) {
        NDArray count = keep(mask).toType(like.getDataType(), false).sum(new int[] {1});
        return count.maximum(TorchOps.scalar(count, 1f));
    }

    /** All masked positions, a scalar of {@code like}'s type; at least 1 so that a mean of none is 0. */
    static NDArray countAll(NDArray mask, NDArray like) {
        NDArray count = keep(mask).toType(like.getDataType(), false).sum();
        return count.maximum(TorchOps.scalar(count, 1f));
    }

    /**
     * @throws IllegalArgumentException unless {@code tokens} is {@code [batch, time]} and {@code mask} has its shape
     */
    static void requireTokenShape(String name, NDArray tokens, NDArray mask) {
        if (tokens.getShape().dimension() != 2 || !tokens.getShape().equals(mask.getShape())) {
            throw new IllegalArgumentException(name + " must be [batch, time] with the mask's shape but was "
                    + tokens.getShape() + " against mask " + mask.getShape());
        }
    }

    /** @throws IllegalArgumentException unless every array is {@code [batch]} with the same batch */
    static void requireSequenceShape(String names, NDArray... sequences) {
        for (NDArray sequence : sequences) {
            if (sequence.getShape().dimension() != 1 || !sequence.getShape().equals(sequences[0].getShape())) {
                StringBuilder shapes = new StringBuilder();
                for (NDArray s : sequences) {
                    shapes.append(shapes.length() == 0 ? "" : ", ").append(s.getShape());
                }
                throw new IllegalArgumentException(
                        names + " must each be [batch] with the same batch but were " + shapes);
            }
        }
    }
}
