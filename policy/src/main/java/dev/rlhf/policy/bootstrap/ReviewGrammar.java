package dev.rlhf.policy.bootstrap;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The closed language of the review task: its prompts, the sentences a response is made of, and the
 * valence each sentence carries.
 *
 * <p>Valence is graded in half steps, as an integer level from {@link #MIN_LEVEL} (-2, "terrible")
 * to {@link #MAX_LEVEL} (+2, "wonderful"); the intensifiers "very"/"really" take a ±1 adjective to
 * ±1.5 and "fairly"/"rather" to ±0.5. Every sentence of the language is tabulated, so parsing is an
 * exact lookup.
 */
final class ReviewGrammar {

    /** Lowest valence level: -2 in half steps. */
    static final int MIN_LEVEL = -4;

    /** Highest valence level: +2 in half steps. */
    static final int MAX_LEVEL = 4;

    /** Fewest sentences in a response. */
    static final int MIN_SENTENCES = 2;

    /** Most sentences in a response. */
    static final int MAX_SENTENCES = 3;

    /** Topic of the sentences that judge the item as a whole. */
    static final String OVERALL = "overall";

    /** Topic of the recommendation sentence. */
    static final String RECOMMEND = "recommend";

    /** Every fifth prompt in enumeration order is held out of pretraining and SFT. */
    private static final int HELD_OUT_EVERY = 5;

    private static final Map<String, List<String>> ASPECTS_BY_ITEM = itemAspects();

    private static final List<String> SHARED_ASPECTS =
            List.of("staff", "service", "location", "atmosphere");

    private static final List<String> PLACES =
            List.of(
                    "Lisbon", "Porto", "Madrid", "Seville", "Paris", "Lyon", "Berlin", "Munich",
                    "Vienna", "Prague", "Rome", "Milan", "Athens", "Dublin", "Oslo", "Krakow");

    private static final List<String> PROMPT_TEMPLATES =
            List.of(
                    "Review of the %s in %s:",
                    "Write a short review of the %s in %s.",
                    "What was the %s in %s like?",
                    "Customer review for the %s in %s:");

    private static final List<String> ASPECT_TEMPLATES =
            List.of("The %s was %s.", "I found the %s %s.");

    private static final List<String> OVERALL_TEMPLATES =
            List.of("Overall the %s was %s.", "Our visit to the %s was %s.");

    private static final String RECOMMEND_TEMPLATE = "I would %s this %s.";

    /** Adjectives at ±2, ±1 and 0. */
    private static final Map<Integer, List<String>> ADJECTIVES =
            Map.of(
                    4, List.of("wonderful", "excellent", "superb"),
                    2, List.of("good", "pleasant", "nice"),
                    0, List.of("average", "ordinary", "acceptable"),
                    -2, List.of("poor", "bad", "disappointing"),
                    -4, List.of("terrible", "awful", "dreadful"));

    /** Intensifiers of ±1 adjectives, with the level they give a +1 adjective. */
    private static final List<Map.Entry<String, Integer>> INTENSIFIERS =
            List.of(
                    Map.entry("very", 3),
                    Map.entry("really", 3),
                    Map.entry("fairly", 1),
                    Map.entry("rather", 1));

    /** One recommendation phrase per level, indexed by {@code level - MIN_LEVEL}. */
    private static final List<String> RECOMMENDATIONS =
            List.of(
                    "never recommend",
                    "strongly advise against",
                    "not recommend",
                    "hesitate to recommend",
                    "perhaps recommend",
                    "probably recommend",
                    "recommend",
                    "happily recommend",
                    "warmly recommend");

    /**
     * The grammar; immutable, so one instance serves everyone. Declared after the tables it reads.
     */
    static final ReviewGrammar INSTANCE = new ReviewGrammar();

    private final List<ReviewPrompt> prompts;
    private final Map<String, ReviewPrompt> promptsByText;
    private final Map<Integer, List<String>> phrasesByLevel;
    private final Map<String, ReviewSentence> sentencesByText;

    private ReviewGrammar() {
        prompts = enumeratePrompts();
        promptsByText = new HashMap<>();
        prompts.forEach(p -> promptsByText.put(p.text(), p));
        phrasesByLevel = adjectivePhrases();
        sentencesByText = enumerateSentences(phrasesByLevel);
    }

    /** A prompt of the task and the item type it asks about. */
    record ReviewPrompt(String text, String item, boolean heldOut) {}

    /**
     * A sentence of the language.
     *
     * @param topic what it talks about: an aspect, {@link #OVERALL} or {@link #RECOMMEND}
     * @param item the item type it is about, empty for a shared aspect that fits every item
     * @param level valence in half steps, in {@code [MIN_LEVEL, MAX_LEVEL]}
     */
    record ReviewSentence(String topic, Optional<String> item, int level) {}

    /** Returns every prompt, in a fixed order. */
    List<ReviewPrompt> prompts() {
        return prompts;
    }

    /** Returns the prompt with this exact text, if the grammar has it. */
    Optional<ReviewPrompt> prompt(String text) {
        return Optional.ofNullable(promptsByText.get(text));
    }

    /** Returns the sentence with this exact text, if the grammar has it. */
    Optional<ReviewSentence> parse(String sentence) {
        return Optional.ofNullable(sentencesByText.get(sentence));
    }

    /** Returns the topics a review of {@code item} may talk about, in a fixed order. */
    List<String> topics(String item) {
        List<String> topics = new ArrayList<>(ASPECTS_BY_ITEM.get(item));
        topics.addAll(SHARED_ASPECTS);
        topics.add(OVERALL);
        topics.add(RECOMMEND);
        return topics;
    }

    /** Renders a sentence about {@code topic} of {@code item} at valence {@code level}. */
    String sentence(String item, String topic, int level, SplittableRandom random) {
        if (topic.equals(RECOMMEND)) {
            return String.format(RECOMMEND_TEMPLATE, RECOMMENDATIONS.get(level - MIN_LEVEL), item);
        }
        List<String> phrases = phrasesByLevel.get(level);
        String phrase = phrases.get(random.nextInt(phrases.size()));
        if (topic.equals(OVERALL)) {
            return String.format(pick(OVERALL_TEMPLATES, random), item, phrase);
        }
        return String.format(pick(ASPECT_TEMPLATES, random), topic, phrase);
    }

    private static <T> T pick(List<T> options, SplittableRandom random) {
        return options.get(random.nextInt(options.size()));
    }

    private static List<ReviewPrompt> enumeratePrompts() {
        List<ReviewPrompt> all = new ArrayList<>();
        for (String template : PROMPT_TEMPLATES) {
            for (String item : ASPECTS_BY_ITEM.keySet()) {
                for (String place : PLACES) {
                    boolean heldOut = all.size() % HELD_OUT_EVERY == 0;
                    all.add(new ReviewPrompt(String.format(template, item, place), item, heldOut));
                }
            }
        }
        return List.copyOf(all);
    }

    /** Phrases by level; the order within a level is fixed, as sampling indexes into it. */
    private static Map<Integer, List<String>> adjectivePhrases() {
        Map<Integer, List<String>> byLevel = new HashMap<>();
        ADJECTIVES.forEach((level, words) -> byLevel.put(level, new ArrayList<>(words)));
        for (int sign : new int[] {1, -1}) {
            for (String adjective : ADJECTIVES.get(2 * sign)) {
                for (Map.Entry<String, Integer> intensifier : INTENSIFIERS) {
                    byLevel.computeIfAbsent(sign * intensifier.getValue(), l -> new ArrayList<>())
                            .add(intensifier.getKey() + " " + adjective);
                }
            }
        }
        return Map.copyOf(byLevel);
    }

    private static Map<String, ReviewSentence> enumerateSentences(
            Map<Integer, List<String>> phrasesByLevel) {
        Map<String, ReviewSentence> sentences = new HashMap<>();
        for (String item : ASPECTS_BY_ITEM.keySet()) {
            for (int level = MIN_LEVEL; level <= MAX_LEVEL; level++) {
                sentences.put(
                        String.format(
                                RECOMMEND_TEMPLATE, RECOMMENDATIONS.get(level - MIN_LEVEL), item),
                        new ReviewSentence(RECOMMEND, Optional.of(item), level));
                for (String phrase : phrasesByLevel.get(level)) {
                    for (String template : OVERALL_TEMPLATES) {
                        sentences.put(
                                String.format(template, item, phrase),
                                new ReviewSentence(OVERALL, Optional.of(item), level));
                    }
                    for (String aspect : ASPECTS_BY_ITEM.get(item)) {
                        for (String template : ASPECT_TEMPLATES) {
                            sentences.put(
                                    String.format(template, aspect, phrase),
                                    new ReviewSentence(aspect, Optional.of(item), level));
                        }
                    }
                }
            }
        }
        for (int level = MIN_LEVEL; level <= MAX_LEVEL; level++) {
            for (String phrase : phrasesByLevel.get(level)) {
                for (String aspect : SHARED_ASPECTS) {
                    for (String template : ASPECT_TEMPLATES) {
                        sentences.put(
                                String.format(template, aspect, phrase),
                                new ReviewSentence(aspect, Optional.empty(), level));
                    }
                }
            }
        }
        return Map.copyOf(sentences);
    }

    private static Map<String, List<String>> itemAspects() {
        // insertion order fixes the prompt enumeration; each aspect belongs to one item only
        Map<String, List<String>> aspects = new LinkedHashMap<>();
        aspects.put("hotel", List.of("room", "breakfast", "reception"));
        aspects.put("hostel", List.of("dormitory", "kitchen", "common room"));
        aspects.put("restaurant", List.of("food", "menu", "waiter"));
        aspects.put("cafe", List.of("coffee", "cake", "terrace"));
        aspects.put("bakery", List.of("bread", "pastry", "counter"));
        aspects.put("pizzeria", List.of("pizza", "crust", "tiramisu"));
        aspects.put("bistro", List.of("soup", "wine list", "dessert"));
        aspects.put("bar", List.of("cocktail", "music", "bartender"));
        aspects.put("museum", List.of("exhibition", "audio guide", "building"));
        aspects.put("gallery", List.of("collection", "lighting", "curator"));
        aspects.put("cinema", List.of("screen", "sound", "seat"));
        aspects.put("theatre", List.of("play", "stage", "cast"));
        aspects.put("library", List.of("reading room", "catalogue", "librarian"));
        aspects.put("bookshop", List.of("selection", "bookseller", "poetry shelf"));
        aspects.put("market", List.of("produce", "fish stall", "flower stand"));
        aspects.put("park", List.of("lawn", "playground", "pond"));
        aspects.put("zoo", List.of("elephant enclosure", "aquarium", "petting farm"));
        aspects.put("spa", List.of("massage", "sauna", "pool"));
        aspects.put("gym", List.of("equipment", "trainer", "changing room"));
        aspects.put("beach", List.of("sand", "water", "promenade"));
        aspects.put("campsite", List.of("pitch", "shower block", "campfire"));
        aspects.put("train station", List.of("platform", "ticket office", "departure board"));
        aspects.put("airport", List.of("security check", "departure hall", "baggage claim"));
        aspects.put("ferry", List.of("deck", "crossing", "crew"));
        return aspects;
    }
}
