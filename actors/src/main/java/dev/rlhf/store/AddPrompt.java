package dev.rlhf.store;

import dev.rlhf.proto.v1.Prompt;

/** Stores a prompt; storing the same prompt again is a no-op, a different one under its id is rejected. */
final class AddPrompt implements StoreChange<Prompt> {

    private final Prompt prompt;

    AddPrompt(Prompt prompt) {
        Keys.requireValidId(prompt.getPromptId(), "prompt_id");
        this.prompt = prompt.toBuilder().clearCreatedAt().build();
    }

    @Override
    public Prompt apply(ChangeScope scope) {
        byte[] key = Keys.id(prompt.getPromptId());
        var existing = scope.get(Column.PROMPTS, key, Prompt.parser());
        if (existing.isPresent()) {
            if (!existing.get().toBuilder().clearCreatedAt().build().equals(prompt)) {
                throw new ChangeRejectedException(RejectionReason.ID_CONFLICT, "prompt_id",
                        "prompt " + prompt.getPromptId() + " is already stored with a different text");
            }
            return existing.get();
        }
        Prompt stored = prompt.toBuilder().setCreatedAt(scope.now()).build();
        scope.put(Column.PROMPTS, key, stored);
        return stored;
    }
}
