package dev.rlhf.policy.generate;

import java.util.Arrays;

/** One sequence's progress in a {@link BatchEngine}: its tokens, log-probs, sampler and where it sits in the cache. */
final class SequenceState {
    final int[] prompt;
    final SamplingParams params;
    final SequenceListener listener;
    private final TokenSampler sampler;
    private final int[] history;
    private final float[] logprobs;
    private final int eosTokenId;
    /** First cache column of this sequence's run of tokens. */
    int startColumn;
    int generated;
    FinishReason finishReason;
    volatile boolean cancelled;
    private int stopCut = -1;

    /**
     * @param budget most tokens it may generate: its own limit or what the context leaves after the prompt
     */
    SequenceState(GenerationRequest request, int budget, int eosTokenId, SequenceListener listener) {
        this.prompt = request.promptIds();
        this.params = request.params();
        this.listener = listener;
        this.sampler = new TokenSampler(params);
        this.history = Arrays.copyOf(prompt, prompt.length + budget);
        this.logprobs = new float[budget];
        this.eosTokenId = eosTokenId;
    }

    int lastToken() {
        return history[prompt.length + generated - 1];
    }

    /** Position id of the newest token. */
    int lastPosition() {
        return prompt.length + generated - 1;
    }

    /** Picks the next token from this sequence's row of {@code distribution} and tells the listener. */
    void advance(StepDistribution distribution, int row, TokenDecoder decoder) {
        int token = distribution.choose(sampler, row, history, prompt.length + generated);
        history[prompt.length + generated] = token;
        float logprob = distribution.logprob(row, token);
        logprobs[generated] = logprob;
        generated++;
        if (token == eosTokenId) {
            finishReason = FinishReason.EOS;
        } else if (params.stopTokenIds().contains(token)) {
            finishReason = FinishReason.STOP;
        } else if (!params.stopStrings().isEmpty() && stopStringFound(decoder)) {
            finishReason = FinishReason.STOP;
        } else if (generated >= logprobs.length) {
            finishReason = FinishReason.LENGTH;
        }
        listener.onToken(token, logprob);
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
