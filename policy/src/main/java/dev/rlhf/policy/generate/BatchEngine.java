package dev.rlhf.policy.generate;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.AttentionBias;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Continuous batching over one KV cache: sequences join the running batch at a step boundary (their prompts
 * prefilled together and left-aligned to the batch's current column), every step then decodes one token for
 * every running sequence, and a sequence that finishes or is cancelled leaves at once, its row taken by the last
 * one so the running rows stay a prefix of the cache. Sampling is per sequence on the Java side
 * ({@link TokenSampler}), so a seed reproduces a completion whatever it shares the batch with.
 *
 * <p>{@link #submit} may be called from any thread; {@link #step} from one thread at a time. Each step's native
 * work happens in a sub-manager closed at its end, so memory stays flat however long the engine runs.
 */
public final class BatchEngine implements AutoCloseable {
    private final GptModel model;
    private final GptConfig config;
    private final TokenDecoder decoder;
    private final NDManager manager;
    private final KvCache cache;
    private final Queue<SequenceState> pending = new ConcurrentLinkedQueue<>();
    /** Running sequences; index = cache row. */
    private final List<SequenceState> running = new ArrayList<>();
    /** The column every running sequence writes its newest token to at the next step. */
    private int column;

    /**
     * @param decoder turns ids into text, or null for a model without tokenizer (then no stop strings, empty text)
     * @param maxRows most sequences decoded together
     */
    public BatchEngine(GptModel model, TokenDecoder decoder, int maxRows) {
        // two context lengths of columns: any running sequence spans at most one, so a shift always makes room
        this(model, decoder, maxRows, 2 * model.config().contextLength());
    }

    /**
     * An engine whose cache holds {@code columns} token positions per row: enough for a batch whose sequences all
     * join at the first step, as {@link Generator}'s do, when it is the longest prompt plus the most new tokens
     * (a cache of two context lengths would take gigabytes at GPT-2's 1,024 positions).
     */
    BatchEngine(GptModel model, TokenDecoder decoder, int maxRows, int columns) {
        this.model = model;
        this.config = model.config();
        this.decoder = decoder;
        this.manager = model.weights().manager().newSubManager();
        this.cache = KvCache.allocate(manager, config, maxRows, columns);
    }

    /**
     * Queues a sequence; it joins the batch at a coming step.
     *
     * @throws IllegalArgumentException if the prompt leaves no room in the context, holds an unknown token id, or
     *     asks for stop strings without a decoder
     */
    public SequenceHandle submit(GenerationRequest request, SequenceListener listener) {
        int[] prompt = request.promptIds();
        if (prompt.length >= config.contextLength()) {
            throw new IllegalArgumentException("prompt of " + prompt.length
                    + " tokens leaves no room in the context of " + config.contextLength());
        }
        for (int id : prompt) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException(
                        "prompt token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        if (decoder == null && !request.params().stopStrings().isEmpty()) {
            throw new IllegalArgumentException("stop strings need a tokenizer to decode text");
        }
        int budget = Math.min(request.params().maxNewTokens(), config.contextLength() - prompt.length);
        SequenceState state = new SequenceState(request, budget, config.eosTokenId(), listener);
        pending.add(state);
        return new SequenceHandle(state);
    }

    /** Whether any sequence is running or waiting. */
    public boolean hasWork() {
        return !running.isEmpty() || !pending.isEmpty();
    }

    public int runningCount() {
        return running.size();
    }

    /** Admits waiting sequences that fit, then decodes one token for every running sequence. */
    public void step() {
        Gradients.inferenceOnly();
        removeFinished();
        admit();
        removeFinished();
        if (running.isEmpty()) {
            return;
        }
        if (column == cache.columns()) {
            shiftLeft();
        }
        decode();
        column++;
        removeFinished();
    }

    private void admit() {
        List<SequenceState> joining = new ArrayList<>();
        int longest = 0;
        while (running.size() + joining.size() < cache.rows()) {
            SequenceState next = pending.peek();
            if (next == null) {
                break;
            }
            if (next.cancelled) {
                pending.poll();
                continue;
            }
            // a prompt must end where the batch's newest tokens sit; a longer one waits a few steps
            if (!running.isEmpty() && next.prompt.length > column) {
                break;
            }
            joining.add(pending.poll());
            longest = Math.max(longest, next.prompt.length);
        }
        if (joining.isEmpty()) {
            return;
        }
        if (running.isEmpty()) {
            column = longest;
        }
        prefill(joining, longest);
    }

    private void prefill(List<SequenceState> joining, int length) {
        int batch = joining.size();
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            SequenceState sequence = joining.get(b);
            int pad = length - sequence.prompt.length;
            sequence.startColumn = column - sequence.prompt.length;
            for (int t = 0; t < sequence.prompt.length; t++) {
                ids[b * length + pad + t] = sequence.prompt[t];
                mask[b * length + pad + t] = 1;
            }
        }
        int firstRow = running.size();
        running.addAll(joining);
        try (NDManager step = manager.newSubManager()) {
            Shape shape = new Shape(batch, length);
            NDArray hidden = model.hiddenStates(step.create(ids, shape), step.create(mask, shape),
                    new KvCache.Region(cache, firstRow, column - length));
            StepDistribution distribution =
                    StepDistribution.of(model.nextTokenLogits(hidden.get(":, -1, :")), paramsOf(joining));
            for (int b = 0; b < batch; b++) {
                joining.get(b).advance(distribution, b, decoder);
            }
        }
    }

    private void decode() {
        int n = running.size();
        int first = running.stream().mapToInt(s -> s.startColumn).min().orElseThrow();
        int width = column - first + 1;
        long[] tokens = new long[n];
        long[] positions = new long[n];
        float[] bias = new float[n * width];
        boolean masked = false;
        for (int r = 0; r < n; r++) {
            SequenceState sequence = running.get(r);
            tokens[r] = sequence.lastToken();
            positions[r] = sequence.lastPosition();
            Arrays.fill(bias, r * width, r * width + sequence.startColumn - first, AttentionBias.MASKED);
            masked |= sequence.startColumn > first;
        }
        try (NDManager step = manager.newSubManager()) {
            NDArray hidden = model.decodeStep(step.create(tokens), step.create(positions),
                    masked ? step.create(bias, new Shape(n, 1, 1, width)) : null, cache, first, column);
            StepDistribution distribution = StepDistribution.of(model.nextTokenLogits(hidden), paramsOf(running));
            for (int r = 0; r < n; r++) {
                running.get(r).advance(distribution, r, decoder);
            }
        }
    }

    /** Drops finished and cancelled sequences, moving the last running row into each hole. */
    private void removeFinished() {
        for (int r = running.size() - 1; r >= 0; r--) {
            SequenceState sequence = running.get(r);
            if (sequence.finishReason == null && !sequence.cancelled) {
                continue;
            }
            int last = running.size() - 1;
            if (r != last) {
                SequenceState moved = running.get(last);
                cache.copyRow(last, r, moved.startColumn, column);
                running.set(r, moved);
            }
            running.remove(last);
            if (!sequence.cancelled) {
                sequence.listener.onFinished(sequence.toCompletion(decoder));
            }
        }
    }

    /** Moves every running sequence's columns to the front of the cache when the write column reaches its end. */
    private void shiftLeft() {
        int first = running.stream().mapToInt(s -> s.startColumn).min().orElseThrow();
        cache.shiftColumnsLeft(running.size(), first, column);
        running.forEach(s -> s.startColumn -= first);
        column -= first;
    }

    private static List<SamplingParams> paramsOf(List<SequenceState> sequences) {
        return sequences.stream().map(s -> s.params).toList();
    }

    @Override
    public void close() {
        manager.close();
    }
}
