import KLDetector
