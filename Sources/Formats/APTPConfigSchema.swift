// APTPConfigSchema: the sections and keys of the original APTP configs (pruning, fine-tuning, filtering,
// image generation, baselines), as listed in aptp-reference.md §5.

extension ConfigSchema {
  /// `model.unet`: the (gated) UNet and diffusion-training settings.
  static let aptpUNet = ConfigSchema.object([
    "pretrained_model_name_or_path": ConfigSchema.string.orNull.doc("base model id or folder"),
    "input_perturbation": .number,
    "revision": ConfigSchema.string.orNull,
    "resolution": ConfigSchema.int.doc("training image size in pixels"),
    "use_ema": .bool,
    "noise_offset": .number,
    "prediction_type": ConfigSchema.string(["epsilon", "v_prediction", "sample"]).orNull,
    "max_scheduler_steps": ConfigSchema.int.orNull.doc("null means 1000"),
    "unet_down_blocks": ConfigSchema.list(.string).orNull,
    "unet_mid_block": ConfigSchema.oneOf([.string, .list(.string)]).orNull,
    "unet_up_blocks": ConfigSchema.list(.string).orNull,
    "gated_ff": .bool,
    "ff_gate_width": .int,
  ])

  /// `model.hypernet`: the architecture predictor.
  static let aptpHypernet = ConfigSchema.object([
    "weight_norm": .bool,
    "linear_bias": .bool,
    "single_arch_param": ConfigSchema.bool.doc("true = single-expert baseline"),
  ])

  /// `model.quantizer`: the router's codebook.
  static let aptpQuantizer = ConfigSchema.object([
    "quantizer_T": ConfigSchema.number.doc("Gumbel-sigmoid temperature"),
    "quantizer_base": ConfigSchema.number.doc("additive offset inside the sigmoid"),
    "num_arch_vq_codebook_embeddings": ConfigSchema.int.doc("K experts"),
    "arch_vq_beta": .number,
    "depth_order": ConfigSchema.list(.int).orNull.doc("slot -> depth gate (negative counts from the end); null = in order"),
    "non_zero_width": .bool,
    "resource_aware_normalization": .bool,
    "optimal_transport": .bool,
  ])

  /// `data`: datasets, prompts and loaders.
  static let aptpData = ConfigSchema.object([
    "dataset_name": ConfigSchema.string.orNull,
    "data_files": ConfigSchema.any,
    "dataset_config_name": ConfigSchema.string.orNull,
    "data_dir": ConfigSchema.string.orNull,
    "train_data_dir": ConfigSchema.string.orNull,
    "train_data_file": ConfigSchema.string.orNull,
    "train_bad_images_path": ConfigSchema.string.orNull,
    "validation_data_dir": ConfigSchema.string.orNull,
    "validation_data_file": ConfigSchema.string.orNull,
    "validation_bad_images_path": ConfigSchema.string.orNull,
    "year": ConfigSchema.oneOf([.int, .string]).orNull,
    "max_train_samples": ConfigSchema.int.orNull,
    "max_validation_samples": ConfigSchema.int.orNull,
    "image_column": .string,
    "caption_column": .string,
    "prompts": ConfigSchema.oneOf([.list(.string), .string]).orNull,
    "max_generated_samples": ConfigSchema.int.orNull,
    "dataloader": .object([
      "dataloader_num_workers": .int,
      "train_batch_size": .int,
      "validation_batch_size": .int,
      "image_generation_batch_size": .int,
      "center_crop": .bool,
      "random_flip": .bool,
    ]),
  ])

  static let aptpWeight = ConfigSchema.object(["weight": .number])

  /// `training.losses`.
  static let aptpLosses = ConfigSchema.object([
    "diffusion_loss": .object(["snr_gamma": ConfigSchema.number.orNull, "weight": .number]),
    "resource_loss": .object([
      "type": ConfigSchema.string(["log", "mae", "mse"]),
      "weight": .number,
      "pruning_target": .number,
    ]),
    "contrastive_loss": .object([
      "arch_vector_temperature": .number,
      "prompt_embedding_temperature": .number,
      "weight": .number,
    ]),
    "distillation_loss": aptpWeight,
    "block_loss": aptpWeight,
    "std_loss": aptpWeight,
    "max_loss": aptpWeight,
  ])

  /// `training.optim`.
  static let aptpOptim = ConfigSchema.object([
    "hypernet_learning_rate": .number,
    "quantizer_learning_rate": .number,
    "unet_learning_rate": .number,
    "hypernet_weight_decay": .number,
    "quantizer_weight_decay": .number,
    "unet_weight_decay": .number,
    "optimizer": ConfigSchema.string.orNull,
    "use_8bit_adam": .bool,
    "adam_beta1": .number,
    "adam_beta2": .number,
    "adam_epsilon": .number,
    "max_grad_norm": ConfigSchema.number.orNull,
    "scale_lr": ConfigSchema.bool.doc("sqrt learning-rate scaling with the batch size"),
    "lr_scheduler": ConfigSchema.string([
      "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
    ]),
    "lr_warmup_steps": .int,
  ])

  /// `training`.
  static let aptpTraining = ConfigSchema.object([
    "num_train_epochs": ConfigSchema.int.orNull,
    "max_train_steps": ConfigSchema.int.orNull,
    "hypernet_pretraining_steps": ConfigSchema.int.orNull,
    "seed": ConfigSchema.int.orNull.doc("seeds every random draw of the run (step n's noise is a function of (seed, n))"),
    "checkpointing_steps": ConfigSchema.int.orNull.doc("steps between checkpoints"),
    "validation_steps": ConfigSchema.int.orNull,
    "image_logging_steps": ConfigSchema.int.orNull,
    "num_inference_steps": .int,
    "guidance_scale": ConfigSchema.number.orNull.doc("image generation: classifier-free guidance scale (7.5 when absent, as the original)"),
    "mixed_precision": ConfigSchema.string(["no", "fp16", "bf16"]).orNull,
    "gradient_accumulation_steps": .int,
    "gradient_checkpointing": .bool,
    "allow_tf32": .bool,
    "enable_xformers_memory_efficient_attention": .bool,
    "local_rank": .int,
    "pruning_target": ConfigSchema.number.orNull.doc("baselines: target fraction of MACs"),
    "pruning_method": ConfigSchema.string.orNull.doc("baselines: e.g. magnitude"),
    "losses": aptpLosses,
    "optim": aptpOptim,
    "hf_hub": .object([
      "push_to_hub": .bool,
      "hub_token": ConfigSchema.string.orNull,
      "hub_model_id": ConfigSchema.string.orNull,
    ]),
    "logging": .object([
      "logging_dir": ConfigSchema.string.orNull,
      "report_to": ConfigSchema.string.orNull,
      "tracker_project_name": ConfigSchema.string.orNull,
      "wandb_log_dir": ConfigSchema.string.orNull,
      "checkpoints_total_limit": ConfigSchema.int.orNull,
      "auto_checkpoint_step": ConfigSchema.oneOf([.bool, .int]).orNull,
      "resume_from_checkpoint": ConfigSchema.string.orNull,
    ]),
  ])

  /// The schema of every APTP config (pruning, fine-tuning, filtering, image generation, baselines):
  /// each kind uses a subset of these sections.
  public static let aptp = ConfigSchema.object([
    "model": .object([
      "unet": aptpUNet,
      "hypernet": aptpHypernet,
      "quantizer": aptpQuantizer,
    ]),
    "data": aptpData,
    "training": aptpTraining,
  ])
}
