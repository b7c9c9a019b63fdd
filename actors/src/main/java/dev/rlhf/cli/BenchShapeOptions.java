package dev.rlhf.cli;

import dev.rlhf.policy.bench.BenchShape;
import picocli.CommandLine.Option;

/** The model and batch flags every {@code bench} command shares. */
final class BenchShapeOptions {
    @Option(names = "--layers", defaultValue = "4", description = "Transformer blocks (default 4).")
    int layers;

    @Option(names = "--d-model", defaultValue = "256", description = "Residual width (default 256).")
    int dModel;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default 4).")
    int heads;

    @Option(names = "--vocab", defaultValue = "8192", description = "Vocabulary size (default 8192).")
    int vocab;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences per batch (default 16).")
    int batch;

    @Option(names = "--prompt-len", defaultValue = "32", description = "Prompt tokens (default 32).")
    int promptLength;

    @Option(names = "--new-tokens", defaultValue = "64", description = "Generated tokens (default 64).")
    int newTokens;

    BenchShape shape() {
        return new BenchShape(layers, dModel, heads, vocab, batch, promptLength, newTokens);
    }
}
