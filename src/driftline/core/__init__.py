"""What the pipeline's stages run: the stage entry points (``stages/``) and everything they
import. Each stage in ``dvc.yaml`` depends on this folder, so nothing here may import
``driftline.ops`` (``tests/test_stage_deps.py`` checks it)."""
