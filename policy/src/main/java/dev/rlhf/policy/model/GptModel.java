package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.rlhf.policy.model.GptWeights.Layer;

/**
 * A GPT-2 decoder: pre-LayerNorm blocks, learned positions, tanh-GELU MLP of four times the width, input and
 * output embeddings tied, and an optional scalar value head on the final hidden states.
 *
 * <p>Every method allocates its results and intermediates in the manager of its first input array, so callers
 * control native memory by running it inside a sub-manager they close. The model itself holds only its weights.
 */
public final class GptModel implements AutoCloseable {
    private final GptConfig config;
    private final GptWeights weights;
    private final float attentionScale;
    private final Shape normalizedShape;

    /**
     * Output of a full forward pass.
     *
     * @param logits {@code [batch, length, vocab]}
     * @param values {@code [batch, length]} value-head outputs, or {@code null} if not asked for
     */
    public record Output(NDArray logits, NDArray values) {}

    public GptModel(GptWeights weights) {
        this.config = weights.config();
        this.weights = weights;
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.normalizedShape = new Shape(config.dModel());
    }

    public GptConfig config() {
        return config;
    }

    public GptWeights weights() {
        return weights;
    }

    /**
     * Forward pass over a padded batch.
     *
     * @param tokenIds {@code [batch, length]} int64 token ids
     * @param attentionMask {@code [batch, length]}, 1 for real tokens and 0 for padding, on either side
     * @param withValues whether to compute the value head (which the weights must then have)
     */
    public Output forward(NDArray tokenIds, NDArray attentionMask, boolean withValues) {
        NDArray hidden = hiddenStates(tokenIds, attentionMask, null);
        NDArray logits = linear(hidden, weights.tokenEmbedding(), null);
        return new Output(logits, withValues ? values(hidden) : null);
    }

    /**
     * Final (post-LayerNorm) hidden states {@code [batch, length, dModel]}; with a cache region, also writes every
     * position's keys and values there (the prefill of generation).
     */
    public NDArray hiddenStates(NDArray tokenIds, NDArray attentionMask, KvCache.Region cache) {
        AttentionLayout layout = paddedLayout(tokenIds, attentionMask);
        NDArray bias = fullBias(tokenIds.getManager(), layout);
        NDArray x = embed(tokenIds, layout);
        for (int i = 0; i < config.layers(); i++) {
            x = block(x, weights.layers().get(i), bias, cache, i);
        }
        return layerNorm(x, weights.get("ln_f.weight"), weights.get("ln_f.bias"));
    }

    /**
     * Final hidden states {@code [positions.length, dModel]} at the same number of columns in every row of a padded
     * batch (row {@code b}'s at {@code positions[b * perRow ..]}): the same values as {@link #hiddenStates} there,
     * but the last block computes its query, attention and MLP at those positions only (nothing after it reads the
     * others), which saves most of a block's work when they are few.
     */
    public NDArray hiddenStatesAt(NDArray tokenIds, NDArray attentionMask, long[] positions) {
        return hiddenStatesAt(tokenIds, paddedLayout(tokenIds, attentionMask), positions);
    }

    /**
     * Final hidden states {@code [queries.length, dModel]} at the same number of query positions in every row of a
     * batch laid out by {@code layout} (row {@code b}'s queries at {@code queries[b * perRow ..]}), with the last
     * block computed at those positions only, as {@link #hiddenStatesAt(NDArray, NDArray, long[])} does.
     *
     * @throws IllegalArgumentException if the tokens do not have the layout's shape, the queries do not divide
     *     evenly among the rows, or a position id is beyond the context length
     */
    public NDArray hiddenStatesAt(NDArray tokenIds, AttentionLayout layout, long[] queries) {
        if (!tokenIds.getShape().equals(new Shape(layout.batch(), layout.length()))) {
            throw new IllegalArgumentException("tokens of shape " + tokenIds.getShape() + " do not fit a layout of "
                    + layout.batch() + " x " + layout.length());
        }
        if (queries.length == 0 || queries.length % layout.batch() != 0) {
            throw new IllegalArgumentException(queries.length + " queries do not divide among " + layout.batch()
                    + " rows");
        }
        if (layout.maxPosition() >= config.contextLength()) {
            throw new IllegalArgumentException("position " + layout.maxPosition()
                    + " is beyond the context length " + config.contextLength());
        }
        NDArray bias = fullBias(tokenIds.getManager(), layout);
        NDArray x = embed(tokenIds, layout);
        int last = config.layers() - 1;
        for (int i = 0; i < last; i++) {
            x = block(x, weights.layers().get(i), bias, null, i);
        }
        NDArray chosen = lastBlockAt(x, weights.layers().get(last), layout, queries);
        return layerNorm(chosen, weights.get("ln_f.weight"), weights.get("ln_f.bias"));
    }

    /** Value head on hidden states {@code [..., dModel]}, giving {@code [...]}. */
    public NDArray values(NDArray hidden) {
        return linear(hidden, weights.get(GptWeights.VALUE_HEAD_WEIGHT), weights.get(GptWeights.VALUE_HEAD_BIAS))
                .squeeze(-1);
    }

    /** Logits {@code [..., vocab]} of hidden states {@code [..., dModel]} through the tied output embedding. */
    public NDArray logits(NDArray hidden) {
        return linear(hidden, weights.tokenEmbedding(), null);
    }

    /**
     * Logits {@code [rows, vocab]} of the few rows {@code [rows, dModel]} of a decoding step, as a transposed view of
     * {@code embedding @ hidden^T}: with so few rows, MKL runs that vocabulary-major product about twice as fast
     * as the row-major {@link #logits} (measured at 16 rows, vocabulary 8192).
     */
    public NDArray nextTokenLogits(NDArray hidden) {
        NDArray product = weights.tokenEmbedding().matMul(hidden.transpose());
        product.attach(hidden.getManager()); // the product is born in the weights' manager, its first operand's
        return product.transpose();
    }

    /**
     * One decoding step for cache rows {@code 0..n-1}: each row's newest token attends over cache columns
     * {@code firstColumn..column}, of which it fills {@code column}.
     *
     * @param tokens {@code [n]} int64, the tokens to place at {@code column}
     * @param positions {@code [n]} int64 position ids
     * @param bias {@code [n, 1, 1, column - firstColumn + 1]} additive mask over those columns, or null when every
     *     row attends to all of them
     * @return final hidden states {@code [n, dModel]}
     */
    public NDArray decodeStep(NDArray tokens, NDArray positions, NDArray bias, KvCache cache, int firstColumn,
            int column) {
        NDManager scope = tokens.getManager();
        int n = Math.toIntExact(tokens.getShape().get(0));
        int d = config.dModel();
        NDArray x = embed(tokens, positions);
        for (int i = 0; i < config.layers(); i++) {
            Layer w = weights.layers().get(i);
            // attention over the cache, this token's keys and values written first
            NDArray h = layerNorm(x, w.ln1Gamma(), w.ln1Beta());
            NDList qkv = linear(h, w.attnWeight(), w.attnBias()).split(3, 1);
            cache.writeColumn(i, column, qkv.get(1), qkv.get(2));
            NDArray q = qkv.get(0).reshape(n, config.heads(), 1, config.headDim());
            NDArray scores = q.matMul(cache.keys(i, n, firstColumn, column + 1, scope)).muli(attentionScale);
            if (bias != null) {
                scores.addi(bias);
            }
            NDArray context = scores.softmax(-1)
                    .matMul(cache.values(i, n, firstColumn, column + 1, scope)).reshape(n, d);
            // add residual
            x.addi(linear(context, w.attnProjWeight(), w.attnProjBias()));
            // MLP
            h = layerNorm(x, w.ln2Gamma(), w.ln2Beta());
            NDArray activated = Gelu.applyInPlace(linear(h, w.fcWeight(), w.fcBias()));
            x.addi(linear(activated, w.mlpProjWeight(), w.mlpProjBias()));
        }
        return layerNorm(x, weights.get("ln_f.weight"), weights.get("ln_f.bias"));
    }

    private NDArray block(NDArray x, Layer w, NDArray bias, KvCache.Region cache, int layer) {
        Shape shape = x.getShape();
        long batch = shape.get(0);
        long length = shape.get(1);
        // split heads: [batch, length, 3 * d] -> 3 x [batch, heads, length, headDim]
        NDArray h = layerNorm(x, w.ln1Gamma(), w.ln1Beta());
        NDArray heads = linear(h, w.attnWeight(), w.attnBias())
                .reshape(batch, length, 3, config.heads(), config.headDim())
                .transpose(2, 0, 3, 1, 4);
        // split rather than three selects: a select's backward fills a zero tensor of the whole [3, ...] shape
        NDList split = heads.split(3, 0);
        NDArray q = split.get(0).squeeze(0);
        NDArray k = split.get(1).squeeze(0);
        NDArray v = split.get(2).squeeze(0);
        if (cache != null) {
            cache.cache().writePrefix(cache, layer, k, v);
        }
        NDArray context = attend(q, k, v, bias).transpose(0, 2, 1, 3).reshape(batch, length, config.dModel());
        // add residual
        x = x.add(linear(context, w.attnProjWeight(), w.attnProjBias()));
        // MLP, add residual
        h = layerNorm(x, w.ln2Gamma(), w.ln2Beta());
        NDArray activated = Gelu.apply(linear(h, w.fcWeight(), w.fcBias()));
        return x.add(linear(activated, w.mlpProjWeight(), w.mlpProjBias()));
    }

    /** The last block at a few query positions per row: keys and values at every position, the rest at those. */
    private NDArray lastBlockAt(NDArray x, Layer w, AttentionLayout layout, long[] queries) {
        NDManager manager = x.getManager();
        int batch = layout.batch();
        int length = layout.length();
        int perRow = queries.length / batch;
        int d = config.dModel();
        // c_attn's rows are [query | key | value]: slice the key/value rows and the query rows apart
        NDArray keyValueWeight = TorchOps.slice(w.attnWeight(), new long[] {d, 0}, new long[] {3L * d, d}, manager);
        NDArray keyValueBias = TorchOps.slice(w.attnBias(), new long[] {d}, new long[] {3L * d}, manager);
        NDArray queryWeight = TorchOps.slice(w.attnWeight(), new long[] {0, 0}, new long[] {d, d}, manager);
        NDArray queryBias = TorchOps.slice(w.attnBias(), new long[] {0}, new long[] {d}, manager);

        NDArray keysAndValues = linear(layerNorm(x, w.ln1Gamma(), w.ln1Beta()), keyValueWeight, keyValueBias)
                .reshape(batch, length, 2, config.heads(), config.headDim())
                .transpose(2, 0, 3, 1, 4);
        NDList split = keysAndValues.split(2, 0);
        NDArray k = split.get(0).squeeze(0);
        NDArray v = split.get(1).squeeze(0);

        // one index per query, broadcast (a view) across the features rather than repeated in a Java array
        NDArray index = manager.create(queries, new Shape(batch, perRow, 1)).broadcast(new Shape(batch, perRow, d));
        NDArray chosen = x.gather(index, 1);
        NDArray q = linear(layerNorm(chosen, w.ln1Gamma(), w.ln1Beta()), queryWeight, queryBias)
                .reshape(batch, perRow, config.heads(), config.headDim())
                .transpose(0, 2, 1, 3);
        NDArray bias = manager.create(layout.biasRows(queries, perRow), new Shape(batch, 1, perRow, length));
        NDArray context = attend(q, k, v, bias).transpose(0, 2, 1, 3).reshape(batch, perRow, d);
        chosen = chosen.add(linear(context, w.attnProjWeight(), w.attnProjBias()));
        NDArray h = layerNorm(chosen, w.ln2Gamma(), w.ln2Beta());
        NDArray activated = Gelu.apply(linear(h, w.fcWeight(), w.fcBias()));
        return chosen.add(linear(activated, w.mlpProjWeight(), w.mlpProjBias())).reshape(queries.length, d);
    }

    /**
     * Scaled dot-product attention {@code softmax(q k^T / sqrt(headDim) + bias) v}, differentiable: queries
     * {@code [batch, heads, queries, headDim]} over keys and values {@code [batch, heads, keys, headDim]}, with the
     * additive {@code bias} {@code [batch, 1, queries, keys]}.
     */
    private NDArray attend(NDArray q, NDArray k, NDArray v, NDArray bias) {
        NDArray product = q.matMul(k.transpose(0, 1, 3, 2));
        return product.mul(TorchOps.scalar(product, attentionScale)).add(bias).softmax(-1).matMul(v);
    }

    /** The layout of a padded batch, after checking that it fits the context. */
    private AttentionLayout paddedLayout(NDArray tokenIds, NDArray attentionMask) {
        Shape shape = tokenIds.getShape();
        int batch = Math.toIntExact(shape.get(0));
        int length = Math.toIntExact(shape.get(1));
        if (length > config.contextLength()) {
            throw new IllegalArgumentException(
                    "sequence length " + length + " exceeds the context length " + config.contextLength());
        }
        return AttentionLayout.padded(attentionMask.toType(DataType.INT64, false).toLongArray(), batch, length);
    }

    private static NDArray fullBias(NDManager manager, AttentionLayout layout) {
        return manager.create(layout.bias(), new Shape(layout.batch(), 1, layout.length(), layout.length()));
    }

    /** Token plus position embeddings of a batch laid out by {@code layout}. */
    private NDArray embed(NDArray tokenIds, AttentionLayout layout) {
        return embed(tokenIds,
                tokenIds.getManager().create(layout.positions(), new Shape(layout.batch(), layout.length())));
    }

    private NDArray embed(NDArray tokenIds, NDArray positions) {
        NDArray tokens = tokenIds.getNDArrayInternal()
                .embedding(tokenIds, weights.tokenEmbedding(), SparseFormat.DENSE).singletonOrThrow();
        NDArray places = positions.getNDArrayInternal()
                .embedding(positions, weights.positionEmbedding(), SparseFormat.DENSE).singletonOrThrow();
        return tokens.addi(places);
    }

    private NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta) {
        return x.getNDArrayInternal()
                .layerNorm(x, normalizedShape, gamma, beta, config.layerNormEpsilon())
                .singletonOrThrow();
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    /** Closes the weights. */
    @Override
    public void close() {
        weights.close();
    }
}
