"""A three-step gymnasium environment for the RL tests: observation [t, 1], reward 1;
the episode ends after 3 steps, by termination or by a time-limit truncation (chosen
at construction), so a test can check what each agent bootstraps from."""

import gymnasium
import numpy as np


class Corridor(gymnasium.Env):
    observation_space = gymnasium.spaces.Box(-10, 10, (2,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, truncate=False):
        self.truncate = truncate
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0, 1.0], np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.array([self.t, 1.0], np.float32)
        end = self.t == 3
        return obs, 1.0, end and not self.truncate, end and self.truncate, {}
