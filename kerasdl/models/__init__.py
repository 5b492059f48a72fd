"""Model families as functional Keras models in a class.

The registry (`kerasdl.models.registry`) maps names such as `"mlp"` and `"cnn"` to
builders and training settings; import it from its module. The GANs live in the
subpackage `kerasdl.models.gans` and are re-exported here.
"""

from kerasdl.models.autoencoders.anomaly import (
    anomaly_detection_auc,
    reconstruction_error,
)
from kerasdl.models.autoencoders.autoencoders import Autoencoder
from kerasdl.models.autoencoders.plots import (
    plot_interpolation,
    plot_latent_grid,
    plot_latent_samples,
    plot_latent_space,
    plot_reconstructions,
)
from kerasdl.models.autoencoders.vae import (
    VAE,
    kl_divergence,
    reconstruction_nll,
)
from kerasdl.models.autoencoders.vae_builders import (
    build_vae,
    vae_decoder,
    vae_encoder,
)
from kerasdl.models.cnn import (
    VGG,
    VGG11,
    VGG16,
    VGG19,
    AlexNet,
    EfficientNet,
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    GoogLeNet,
    LeNet5,
    ResNet,
    ResNet18,
    ResNet34,
    ResNet50,
)
from kerasdl.models.cnn.small_cnn import SmallCNN
from kerasdl.models.detection.boxes import (
    Detections,
    average_precision,
    box_iou,
    decode_predictions,
    encode_targets,
    gaussian_radius,
    mean_average_precision,
    non_max_suppression,
)
from kerasdl.models.detection.centernet import (
    CenterNet,
    CenterNetLoss,
    centernet_focal_loss,
)
from kerasdl.models.diffusion import (
    DDPM,
    NoiseSchedule,
    SinusoidalTimeEmbedding,
    diffusion_unet,
    plot_denoising_trajectory,
)
from kerasdl.models.gans import (
    DCGAN,
    WGAN,
    WGANGP,
    ConditionalGAN,
    GANSampleGrid,
    dcgan_discriminator,
    dcgan_generator,
)
from kerasdl.models.mlp.mlp import MLP
from kerasdl.models.mlp.perceptron import Perceptron, PerceptronClassifier
from kerasdl.models.segmentation.metrics import (
    DiceCoefficient,
    DiceCrossEntropyLoss,
    IoUScore,
    dice_score,
    iou_score,
    segmentation_confusion_matrix,
    segmentation_report,
)
from kerasdl.models.segmentation.unet import UNet
from kerasdl.models.sequence.forecasting import (
    Forecaster,
    evaluate_forecasts,
    naive_forecast,
    seasonal_naive_forecast,
)
from kerasdl.models.sequence.rnn_classifier import (
    build_sequence_classifier,
    make_reversal_task,
    sequence_exact_match,
)
from kerasdl.models.sequence.seq2seq_lstm import (
    Seq2SeqLSTM,
    make_teacher_forcing_inputs,
)
from kerasdl.models.sequence.word2vec import (
    Word2Vec,
    plot_embeddings_2d,
    skipgram_pairs,
    unigram_distribution,
)
from kerasdl.models.tabular import (
    FT_TRANSFORMER_SMALL,
    FTTransformer,
    TableEncoder,
    TabularMLP,
    TabularModel,
)
from kerasdl.models.transfer.backbones import (
    InferenceModeModel,
    application_names,
    backbone_blocks,
    build_transfer_model,
    feature_extractor,
    freeze_backbone,
    get_backbone,
    load_backbone,
    unfreeze_top_blocks,
)

__all__ = [
    "FT_TRANSFORMER_SMALL",
    "FTTransformer",
    "TabularMLP",
    "TableEncoder",
    "TabularModel",
    "InferenceModeModel",
    "application_names",
    "backbone_blocks",
    "build_transfer_model",
    "feature_extractor",
    "freeze_backbone",
    "get_backbone",
    "load_backbone",
    "unfreeze_top_blocks",
    "AlexNet",
    "EfficientNet",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "GoogLeNet",
    "LeNet5",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "VGG",
    "VGG11",
    "VGG16",
    "VGG19",
    "UNet",
    "CenterNet",
    "CenterNetLoss",
    "centernet_focal_loss",
    "DiceCrossEntropyLoss",
    "IoUScore",
    "DiceCoefficient",
    "dice_score",
    "iou_score",
    "segmentation_confusion_matrix",
    "segmentation_report",
    "Detections",
    "box_iou",
    "non_max_suppression",
    "encode_targets",
    "decode_predictions",
    "gaussian_radius",
    "mean_average_precision",
    "average_precision",
    "sequence_exact_match",
    "make_teacher_forcing_inputs",
    "make_reversal_task",
    "build_sequence_classifier",
    "Seq2SeqLSTM",
    "DCGAN",
    "DDPM",
    "MLP",
    "VAE",
    "WGAN",
    "WGANGP",
    "Word2Vec",
    "Autoencoder",
    "ConditionalGAN",
    "Forecaster",
    "GANSampleGrid",
    "NoiseSchedule",
    "Perceptron",
    "PerceptronClassifier",
    "SinusoidalTimeEmbedding",
    "SmallCNN",
    "anomaly_detection_auc",
    "build_vae",
    "dcgan_discriminator",
    "dcgan_generator",
    "diffusion_unet",
    "evaluate_forecasts",
    "kl_divergence",
    "naive_forecast",
    "plot_denoising_trajectory",
    "plot_embeddings_2d",
    "plot_interpolation",
    "plot_latent_grid",
    "plot_latent_samples",
    "plot_latent_space",
    "plot_reconstructions",
    "reconstruction_error",
    "reconstruction_nll",
    "seasonal_naive_forecast",
    "skipgram_pairs",
    "unigram_distribution",
    "vae_decoder",
    "vae_encoder",
]
