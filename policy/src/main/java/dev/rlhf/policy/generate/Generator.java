package dev.rlhf.policy.generate;

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

/**
 * Batched generation with a KV cache: one prefill over the left-padded prompts, then one decoding step per token
 * in which each sequence's newest token attends over the cache. Sampling happens on the Java side per sequence
 * (see {@link TokenSampler}); finished sequences are dropped from the batch once enough of them have finished
 * that compacting the cache pays for itself.
 *
 * <p>Each call owns a native sub-manager for its cache and one per step for everything else, so memory stays flat
 * however long the loop runs. A generator may be used from one thread at a time.
 */
public final class Generator {
    private final GptModel model;
    private final TokenDecoder decoder;

    /**
     * @param decoder turns ids into text, or null for a model without tokenizer (then no stop strings, empty text)
     */
    public Generator(GptModel model, TokenDecoder decoder) {
        this.model = model;
        this.decoder = decoder;
    }

    /**
     * Generates a completion for every request, in request order.
     *
     * @throws IllegalArgumentException if a prompt is as long as the context or holds an unknown token id, or
     *     stop strings are asked for without a decoder
     */
    public List<Completion> generate(List<GenerationRequest> requests) {
        GptConfig config = model.config();
        int batch = requests.size();
        if (batch == 0) {
            return List.of();
        }
        int promptLength = 0;
        for (GenerationRequest request : requests) {
            validate(request, config);
            promptLength = Math.max(promptLength, request.promptIds().length);
        }
        // each row's budget is bounded by its own real length, not by its companions' padding
        int capacity = 0;
        for (GenerationRequest request : requests) {
            capacity = Math.max(capacity, promptLength + budget(request, config));
        }
        List<Sequence> sequences = new ArrayList<>(batch);
        for (GenerationRequest request : requests) {
            sequences.add(new Sequence(request, promptLength, capacity, budget(request, config)));
        }
        try (NDManager manager = model.weights().manager().newSubManager();
                KvCache cache = KvCache.allocate(manager, config, batch, capacity)) {
            List<Sequence> active = new ArrayList<>(sequences);
            StepDistribution distribution = prefill(manager, active, promptLength, cache);
            for (int slot = promptLength; ; slot++) {
                int row = 0;
                for (Sequence sequence : active) {
                    // a finished row stays in the batch until compaction pays off; it must not grow meanwhile
                    if (sequence.finishReason == null) {
                        sequence.advance(distribution, row, config, decoder);
                    }
                    row++;
                }
                List<Sequence> running = active.stream().filter(s -> s.finishReason == null).toList();
                if (running.isEmpty()) {
                    break;
                }
                if (running.size() <= active.size() * 3 / 4) {
                    cache.keepRows(rowsOf(active, running));
                    active = running;
                }
                distribution = decode(manager, active, slot, cache);
            }
        }
        List<Completion> completions = new ArrayList<>(batch);
        for (Sequence sequence : sequences) {
            completions.add(sequence.toCompletion(decoder));
        }
        return completions;
    }

    /** Most tokens a request may generate: its own limit, or what is left of the context after its prompt. */
    private static int budget(GenerationRequest request, GptConfig config) {
        return Math.min(request.params().maxNewTokens(), config.contextLength() - request.promptIds().length);
    }

    private void validate(GenerationRequest request, GptConfig config) {
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
    }

    private StepDistribution prefill(NDManager parent, List<Sequence> active, int promptLength, KvCache cache) {
        int batch = active.size();
        long[] ids = new long[batch * promptLength];
        long[] mask = new long[batch * promptLength];
        for (int b = 0; b < batch; b++) {
            int[] prompt = active.get(b).prompt;
            int pad = promptLength - prompt.length;
            for (int t = 0; t < prompt.length; t++) {
                ids[b * promptLength + pad + t] = prompt[t];
                mask[b * promptLength + pad + t] = 1;
            }
        }
        try (NDManager step = parent.newSubManager()) {
            Shape shape = new Shape(batch, promptLength);
            NDArray hidden = model.hiddenStates(step.create(ids, shape), step.create(mask, shape), cache);
            NDArray last = hidden.get(":, -1, :");
            return StepDistribution.of(model.logits(last), paramsOf(active));
        }
    }

    private StepDistribution decode(NDManager parent, List<Sequence> active, int slot, KvCache cache) {
        int batch = active.size();
        int capacity = cache.capacity();
        long[] tokens = new long[batch];
        long[] positions = new long[batch];
        float[] bias = new float[batch * capacity];
        for (int b = 0; b < batch; b++) {
            Sequence sequence = active.get(b);
            tokens[b] = sequence.lastToken();
            positions[b] = sequence.prompt.length + sequence.generated - 1L;
            System.arraycopy(sequence.slotBias, 0, bias, b * capacity, capacity);
        }
        try (NDManager step = parent.newSubManager()) {
            NDArray hidden = model.decodeStep(step.create(tokens), step.create(positions),
                    step.create(bias, new Shape(batch, 1, 1, capacity)), cache, slot);
            return StepDistribution.of(model.logits(hidden), paramsOf(active));
        }
    }

    private static List<SamplingParams> paramsOf(List<Sequence> active) {
        return active.stream().map(s -> s.params).toList();
    }

    private static long[] rowsOf(List<Sequence> active, List<Sequence> running) {
        long[] rows = new long[running.size()];
        int i = 0;
        for (int row = 0; row < active.size(); row++) {
            if (active.get(row).finishReason == null) {
                rows[i++] = row;
            }
        }
        return rows;
    }

    /** The state of one sequence across steps. */
    private static final class Sequence {
        final int[] prompt;
        final SamplingParams params;
        final TokenSampler sampler;
        /** Additive attention bias over cache slots: prompt padding and unwritten slots are masked. */
        final float[] slotBias;
        final int[] history;
        final float[] logprobs;
        final int promptSlots;
        int generated;
        FinishReason finishReason;
        int stopCut = -1;

        Sequence(GenerationRequest request, int promptLength, int capacity, int maxNew) {
            this.prompt = request.promptIds();
            this.params = request.params();
            this.sampler = new TokenSampler(params);
            this.promptSlots = promptLength;
            this.slotBias = new float[capacity];
            Arrays.fill(slotBias, AttentionBias.MASKED);
            Arrays.fill(slotBias, promptLength - prompt.length, promptLength, 0f);
            this.history = Arrays.copyOf(prompt, prompt.length + maxNew);
            this.logprobs = new float[maxNew];
        }

        int lastToken() {
            return history[prompt.length + generated - 1];
        }

        /** Picks this row's next token. */
        void advance(StepDistribution distribution, int row, GptConfig config, TokenDecoder decoder) {
            int token = distribution.choose(sampler, row, history, prompt.length + generated);
            history[prompt.length + generated] = token;
            logprobs[generated] = distribution.logprob(row, token);
            // the token's key and value land in this slot on the next step
            slotBias[promptSlots + generated] = 0f;
            generated++;
            if (token == config.eosTokenId()) {
                finishReason = FinishReason.EOS;
            } else if (params.stopTokenIds().contains(token)) {
                finishReason = FinishReason.STOP;
            } else if (!params.stopStrings().isEmpty() && stopStringFound(decoder)) {
                finishReason = FinishReason.STOP;
            } else if (generated >= logprobs.length) {
                finishReason = FinishReason.LENGTH;
            }
        }

        private boolean stopStringFound(TokenDecoder decoder) {
            String text = decoder.decode(generatedIds());
            for (String stop : params.stopStrings()) {
                int at = text.indexOf(stop);
                if (at >= 0) {
                    stopCut = stopCut < 0 ? at : Math.min(stopCut, at);
                }
            }
            return stopCut >= 0;
        }

        int[] generatedIds() {
            return Arrays.copyOfRange(history, prompt.length, prompt.length + generated);
        }

        Completion toCompletion(TokenDecoder decoder) {
            int[] ids = generatedIds();
            String text = decoder == null ? "" : decoder.decode(ids);
            if (stopCut >= 0) {
                text = text.substring(0, stopCut);
            }
            return new Completion(ids, Arrays.copyOf(logprobs, generated), finishReason, text);
        }
    }
}
