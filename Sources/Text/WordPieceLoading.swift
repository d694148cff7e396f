// WordPieceLoading: building a WordPiece tokenizer from a HF folder (tokenizer.json, or vocab.txt + tokenizer_config.json).

import Formats

extension WordPieceTokenizer {
  /// Loads the tokenizer of a BERT/MiniLM/MPNet folder. `tokenizer.json` (what HF's fast tokenizer
  /// reads) is preferred; otherwise `vocab.txt` (or `vocab.json`) with `tokenizer_config.json` and
  /// `special_tokens_map.json`. `maxLength` overrides the config's `model_max_length`.
  public static func load(folder: String, maxLength: Int? = nil) throws -> WordPieceTokenizer {
    try TokenizerFiles.requireFolder(folder)
    let config = try TokenizerFiles.optionalJSON(folder, "tokenizer_config.json")
    let specials = try TokenizerFiles.optionalJSON(folder, "special_tokens_map.json")
    let length = maxLength ?? TokenizerFiles.modelMaxLength(config) ?? 512
    if fileExists(folder + "/tokenizer.json") {
      return try fromTokenizerJSON(folder + "/tokenizer.json", config: config, maxLength: length)
    }
    return try fromVocabulary(folder: folder, config: config ?? ConfigMap(), specials: specials ?? ConfigMap(), maxLength: length)
  }

  /// The slow-tokenizer route: a vocabulary file plus the special tokens named in the configs.
  static func fromVocabulary(folder: String, config: ConfigMap, specials: ConfigMap, maxLength: Int) throws
    -> WordPieceTokenizer
  {
    let vocab: [String: Int]
    if fileExists(folder + "/vocab.txt") {
      vocab = try TokenizerFiles.vocabText(folder + "/vocab.txt")
    } else if fileExists(folder + "/vocab.json") {
      vocab = try TokenizerFiles.vocabMap(try TokenizerFiles.json(folder + "/vocab.json"), file: folder + "/vocab.json")
    } else {
      throw TextError(file: folder, "holds no tokenizer.json, vocab.txt or vocab.json")
    }
    func special(_ key: String, _ fallback: String) -> String {
      TokenizerFiles.tokenString(config[key]) ?? TokenizerFiles.tokenString(specials[key]) ?? fallback
    }
    let isMPNet = config["tokenizer_class"]?.stringValue?.hasPrefix("MPNet") ?? false
    let cls = special("cls_token", isMPNet ? "<s>" : "[CLS]"), sep = special("sep_token", isMPNet ? "</s>" : "[SEP]")
    let pad = special("pad_token", isMPNet ? "<pad>" : "[PAD]"), unk = special("unk_token", "[UNK]")
    var added: [AddedToken] = []
    for key in ["cls_token", "sep_token", "pad_token", "unk_token", "mask_token", "bos_token", "eos_token"] {
      if let s = TokenizerFiles.tokenString(config[key]) ?? TokenizerFiles.tokenString(specials[key]), let id = vocab[s] {
        added.append(AddedToken(content: s, id: id, lstrip: key == "mask_token" && isMPNet))
      }
    }
    var normalization = Normalization()
    normalization.lowercase = config["do_lower_case"]?.boolValue ?? true
    normalization.stripAccents = config["strip_accents"]?.boolValue
    normalization.handleChineseChars = config["tokenize_chinese_chars"]?.boolValue ?? true
    guard let clsId = vocab[cls], let sepId = vocab[sep] else {
      throw TextError(file: folder, "the special tokens \"\(cls)\" and \"\(sep)\" must be in the vocabulary")
    }
    return try WordPieceTokenizer(
      vocab: vocab, normalization: normalization, unkToken: unk, prefixIds: [clsId], suffixIds: [sepId],
      padId: vocab[pad] ?? 0, maxLength: maxLength, addedTokens: added)
  }

  /// The fast-tokenizer route: everything from `tokenizer.json`.
  static func fromTokenizerJSON(_ path: String, config: ConfigMap?, maxLength: Int) throws -> WordPieceTokenizer {
    let json = try TokenizerFiles.json(path)
    guard case .map(let model)? = json["model"], model["type"]?.stringValue == "WordPiece" else {
      throw TextError(file: path, "model.type must be \"WordPiece\" (found \(json["model"]?.mapValue?["type"]?.stringValue ?? "none"))")
    }
    guard case .map(let vocabMap)? = model["vocab"] else { throw TextError(file: path, "model.vocab must be an object token -> id") }
    let vocab = try TokenizerFiles.vocabMap(vocabMap, file: path)
    let added = try addedTokens(json["added_tokens"], file: path)
    let (prefix, suffix) = try template(json["post_processor"], file: path)
    let padToken = TokenizerFiles.tokenString(config?["pad_token"])
    let padId = padToken.flatMap { p in vocab[p] ?? added.first { $0.content == p }?.id }
      ?? json["padding"]?.mapValue?["pad_id"]?.intValue ?? 0
    return try WordPieceTokenizer(
      vocab: vocab, normalization: try normalization(json["normalizer"], file: path),
      unkToken: model["unk_token"]?.stringValue ?? "[UNK]",
      continuingPrefix: model["continuing_subword_prefix"]?.stringValue ?? "##",
      maxInputCharsPerWord: model["max_input_chars_per_word"]?.intValue ?? 100,
      prefixIds: prefix, suffixIds: suffix, padId: padId, maxLength: maxLength, addedTokens: added)
  }

  static func addedTokens(_ value: ConfigValue?, file: String) throws -> [AddedToken] {
    guard let list = value?.listValue else { return [] }
    return try list.map { entry in
      guard let m = entry.mapValue, let content = m["content"]?.stringValue, let id = m["id"]?.intValue else {
        throw TextError(file: file, "every added_tokens entry needs \"content\" and \"id\"")
      }
      return AddedToken(content: content, id: id, lstrip: m["lstrip"]?.boolValue ?? false, rstrip: m["rstrip"]?.boolValue ?? false)
    }
  }

  static func normalization(_ value: ConfigValue?, file: String) throws -> Normalization {
    var n = Normalization()
    guard let m = value?.mapValue else {
      n.cleanText = false
      n.handleChineseChars = false
      n.lowercase = false
      n.stripAccents = false
      return n
    }
    guard m["type"]?.stringValue == "BertNormalizer" else {
      throw TextError(file: file, "normalizer \"\(m["type"]?.stringValue ?? "?")\" is not supported for WordPiece (expected BertNormalizer)")
    }
    n.cleanText = m["clean_text"]?.boolValue ?? true
    n.handleChineseChars = m["handle_chinese_chars"]?.boolValue ?? true
    n.stripAccents = m["strip_accents"]?.boolValue
    n.lowercase = m["lowercase"]?.boolValue ?? true
    return n
  }

  /// Ids before and after a single sequence, from a Bert/Roberta/Template post-processor.
  static func template(_ value: ConfigValue?, file: String) throws -> (prefix: [Int], suffix: [Int]) {
    guard let m = value?.mapValue else { return ([], []) }
    func pair(_ key: String) throws -> Int {
      guard let l = m[key]?.listValue, l.count == 2, let id = l[1].intValue else {
        throw TextError(file: file, "post_processor.\(key) must be [token, id]")
      }
      return id
    }
    switch m["type"]?.stringValue {
    case "BertProcessing", "RobertaProcessing": return ([try pair("cls")], [try pair("sep")])
    case "TemplateProcessing": return try templateProcessing(m, file: file)
    default: throw TextError(file: file, "post_processor \"\(m["type"]?.stringValue ?? "?")\" is not supported")
    }
  }

  private static func templateProcessing(_ m: ConfigMap, file: String) throws -> (prefix: [Int], suffix: [Int]) {
    var prefix: [Int] = [], suffix: [Int] = []
    var seenSequence = false
    for piece in m["single"]?.listValue ?? [] {
      if piece.mapValue?["Sequence"] != nil {
        seenSequence = true
        continue
      }
      guard let name = piece.mapValue?["SpecialToken"]?.mapValue?["id"]?.stringValue,
        let ids = m["special_tokens"]?.mapValue?[name]?.mapValue?["ids"]?.listValue
      else { throw TextError(file: file, "post_processor.single names a special token the template does not define") }
      let values = ids.compactMap(\.intValue)
      if seenSequence { suffix += values } else { prefix += values }
    }
    return (prefix, suffix)
  }
}
