// PromptEncoders: what turns prompts into the UNet's cross-attention context — CLIP (Stable Diffusion) or MiniLM token states.

import Text
import TensorCore

/// Prompts -> cross-attention context [B, L, D] and, when tokens are padded per batch, a 0/1 mask [B, L].
public protocol PromptEncoder: AnyObject {
  /// Width of the context vectors (the UNet's `cross_attention_dim`).
  var contextWidth: Int { get }
  func context(_ prompts: [String]) throws -> (states: Tensor, mask: Tensor?)
}

/// Stable Diffusion's encoder: CLIP tokens padded to the tokenizer's length (77), the text
/// encoder's last hidden state (or an earlier one with `clipSkip`, as diffusers does), no mask.
public final class CLIPPromptEncoder: PromptEncoder {
  public let tokenizer: CLIPTokenizer
  public let model: CLIPTextModel
  public var clipSkip: Int?

  public init(tokenizer: CLIPTokenizer, model: CLIPTextModel, clipSkip: Int? = nil) {
    self.tokenizer = tokenizer
    self.model = model
    self.clipSkip = clipSkip
  }

  public var contextWidth: Int { model.hiddenSize }

  public func context(_ prompts: [String]) throws -> (states: Tensor, mask: Tensor?) {
    let ids = tokenizer.batch(prompts, length: tokenizer.maxLength).ids
    return (try model.promptEmbeddings(ids: ids, clipSkip: clipSkip), nil)
  }
}

/// A sentence encoder's token states (MiniLM for the project's small pixel-space models), padded
/// to the longest prompt of the call, with the mask the UNet uses to ignore padding.
public final class TokenStatePromptEncoder: PromptEncoder {
  public let encoder: SentenceEncoder

  public init(_ encoder: SentenceEncoder) { self.encoder = encoder }

  public var contextWidth: Int { encoder.model.hiddenSize }

  public func context(_ prompts: [String]) throws -> (states: Tensor, mask: Tensor?) {
    let (states, mask) = try encoder.hidden(prompts)
    return (states, mask.to(.float32))
  }
}
