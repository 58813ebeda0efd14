// BertConfig: presets, HF config.json round trip and field validation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rgrid/nn/bert_config.hpp"

using namespace rgrid;

TEST(BertConfig, Presets) {
    struct P { const char* name; std::size_t l, h, a, i; };
    for (auto p : {P{"tiny", 2, 128, 2, 512}, P{"mini", 4, 256, 4, 1024}, P{"small", 4, 512, 8, 2048},
                   P{"medium", 8, 512, 8, 2048}, P{"base", 12, 768, 12, 3072}}) {
        auto c = BertConfig::preset(p.name);
        EXPECT_EQ(c.num_hidden_layers, p.l) << p.name;
        EXPECT_EQ(c.hidden_size, p.h) << p.name;
        EXPECT_EQ(c.num_attention_heads, p.a) << p.name;
        EXPECT_EQ(c.intermediate_size, p.i) << p.name;
        EXPECT_EQ(c.vocab_size, 30522u);
        EXPECT_NO_THROW(c.validate());
    }
    EXPECT_THROW(BertConfig::preset("huge"), Error);
}

TEST(BertConfig, JsonRoundTripWithHfFields) {
    BertConfig c = BertConfig::preset("mini");
    c.id2label = {"easy_ham", "hard_ham", "spam"};
    c.classifier_dropout = 0.2;
    json j = c.to_json();
    EXPECT_EQ(j["architectures"], json::array({"BertForSequenceClassification"}));
    EXPECT_EQ(j["model_type"], "bert");
    EXPECT_EQ(j["id2label"]["2"], "spam");
    EXPECT_EQ(j["label2id"]["hard_ham"], 1);
    EXPECT_EQ(j["hidden_act"], "gelu");
    EXPECT_EQ(BertConfig::from_json(j), c);
    const auto path = (std::filesystem::temp_directory_path() / "rgrid_test_config.json").string();
    c.save(path);
    EXPECT_EQ(BertConfig::load(path), c);
    c.classifier_dropout.reset();
    EXPECT_TRUE(c.to_json()["classifier_dropout"].is_null());
    EXPECT_EQ(BertConfig::from_json(c.to_json()), c);
}

TEST(BertConfig, ReadsTheGoldenHfConfig) {
    auto c = BertConfig::load(std::string(RGRID_TEST_DATA_DIR) + "/bert_tiny_config.json");
    EXPECT_EQ(c.hidden_size, 32u);
    EXPECT_EQ(c.num_attention_heads, 4u);
    EXPECT_EQ(c.id2label, (std::vector<std::string>{"neg", "neu", "pos"}));
    EXPECT_EQ(c.num_labels(), 3u);
}

TEST(BertConfig, DefaultsAndNumLabels) {
    auto c = BertConfig::from_json(json::parse(R"({"num_labels": 4})"));
    EXPECT_EQ(c.id2label, (std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"}));
    EXPECT_EQ(c.hidden_size, 768u);
    EXPECT_EQ(c.layer_norm_eps, 1e-12);
}

TEST(BertConfig, BadFieldsNamed) {
    auto err = [](const char* text) {
        try {
            BertConfig::from_json(json::parse(text));
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(err(R"({"hidden_size": "big"})").find("hidden_size"), std::string::npos);
    EXPECT_NE(err(R"({"hidden_size": 100, "num_attention_heads": 3})").find("num_attention_heads"), std::string::npos);
    EXPECT_NE(err(R"({"hidden_act": "relu"})").find("relu"), std::string::npos);
    EXPECT_NE(err(R"({"model_type": "roberta"})").find("model_type"), std::string::npos);
    EXPECT_NE(err(R"({"id2label": {"0": "a", "5": "b"}})").find("id2label key '5'"), std::string::npos);
    EXPECT_NE(err(R"({"id2label": {"0": "a", "1": "b"}, "label2id": {"a": 1, "b": 0}})").find("label2id"), std::string::npos);
    EXPECT_NE(err(R"({"hidden_dropout_prob": 1.5})").find("hidden_dropout_prob"), std::string::npos);
    EXPECT_NE(err(R"({"position_embedding_type": "relative_key"})").find("position_embedding_type"), std::string::npos);
    EXPECT_THROW(BertConfig::load("/nonexistent/config.json"), Error);
}
